"""Rich tables shown by the CLI: usage, run status, embedded models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from synthrl.llm.usage import Ledger, Usage


def usage_table(ledger: Ledger, title: str = "model usage (this command)") -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("stage", "model", "calls", "hits", "in tok", "out tok", "s", "USD"):
        table.add_column(column, justify="left" if column in ("stage", "model") else "right")
    rows = [*ledger.rows.items(), (("total", ""), ledger.total())]
    for (stage, model), usage in rows:
        table.add_row(stage, model, *_usage_cells(usage))
    return table


def _usage_cells(u: Usage) -> list[str]:
    return [
        str(u.requests),
        str(u.cache_hits),
        f"{u.prompt_tokens:,}",
        f"{u.completion_tokens:,}",
        f"{u.wall_s:.1f}",
        f"{u.cost_usd:.4f}",
    ]


def status_table(run_dir: Path, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"run {run_dir}", title_justify="left")
    for column in ("stage", "state", "counts", "drops", "tokens", "USD", "time s"):
        table.add_column(column)
    for row in rows:
        manifest = row["manifest"]
        if manifest is None:
            table.add_row(row["stage"], "[dim]not run[/]", "", "", "", "", "")
            continue
        usage = Ledger.from_json(manifest.get("usage", [])).total()
        table.add_row(
            row["stage"],
            "[green]done[/]",
            ", ".join(f"{k} {v}" for k, v in manifest.get("counts", {}).items()),
            ", ".join(f"{k} {v}" for k, v in manifest.get("drops", {}).items()),
            f"{usage.prompt_tokens + usage.completion_tokens:,} ({usage.cache_hits} cached)",
            f"{usage.cost_usd:.4f}",
            f"{manifest.get('wall_s', 0):.1f}",
        )
    return table


def models_table() -> Table:
    from synthrl import models

    table = Table(title="embedded models and data", title_justify="left")
    for column in ("name", "what", "packages", "license", "state"):
        table.add_column(column)
    for m in models.MODELS.values():
        state = "[green]prepared[/]" if models.is_prepared(m.name) else "not prepared"
        packages = f"{m.dists[0]}..{len(m.dists)} =={m.version}"
        table.add_row(m.name, m.title, packages, m.license, state)
    for d in models.DATA.values():
        table.add_row(d.name, d.title, f"{d.dist}=={d.version}", d.license, "package data")
    return table


def evaluation_table(comparison: dict[str, Any], items: int) -> Table:
    """Base vs trained accuracy with 95% intervals, difference, wins/losses, McNemar p."""
    from synthrl.evaluate.compare import table_rows

    table = Table(
        title=f"evaluation on {items} held-out items (95% intervals)", title_justify="left"
    )
    for column in ("judging", "base", "trained", "difference", "wins / losses", "McNemar p"):
        table.add_column(column)
    for row in table_rows(comparison):
        table.add_row(*row)
    return table
