"""Rich tables shown by the CLI: usage, run status, embedded models."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from synthrl.forecast import Forecast

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
        u.usd,
    ]


def forecast_table(fc: Forecast) -> Table:
    """The forecast of a run (synthrl.forecast): one row per model workload, then the total,
    the verdict and what the numbers assume."""
    from synthrl.forecast import STOP_HOURS
    from synthrl.llm.usage import format_usd

    title = "forecast (estimates)" + (f"; already done: {', '.join(fc.done)}" if fc.done else "")
    table = Table(title=title, title_justify="left", caption_justify="left")
    columns = ("stage", "what", "model", "requests", "completions", "out tokens (max)")
    for column in (*columns, "USD", "hours", "speed"):
        left = column in ("stage", "what", "model", "speed")
        table.add_column(column, justify="left" if left else "right", overflow="fold")
    for r in fc.rows:
        usd = format_usd(r.usd or 0.0, 0 if r.usd is not None else 1)
        table.add_row(
            r.stage, r.what, r.model, f"{r.requests:,}", f"{r.samples:,}",
            f"{r.completion_tokens:,}", usd, _hours(r.seconds / 3600), r.basis,
        )  # fmt: skip
    table.add_row("total", "", "", "", "", "", fc.usd_text, _hours(fc.hours), "", style="bold")
    verdict = (
        f"far beyond this machine (more than {STOP_HOURS:.0f} h)"
        if fc.too_long
        else "within reach of this machine"
    )
    table.caption = "\n".join([f"{_hours(fc.hours)} in all: {verdict}.", *fc.notes])
    return table


def _hours(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours:,.0f} h ({hours / 24:,.0f} days)"


def status_table(run_dir: Path, rows: list[dict[str, Any]]) -> Table:
    """One row per stage; label, yes/no and choice runs add their label (or correct-position)
    counts under the counts of generate (the asked targets), verify, adapt and select."""
    from synthrl.report.quality import status_lines

    balance = status_lines(run_dir)
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
            _counts_cell(manifest, balance.get(row["stage"])),
            ", ".join(f"{k} {v}" for k, v in manifest.get("drops", {}).items()),
            f"{usage.prompt_tokens + usage.completion_tokens:,} ({usage.cache_hits} cached)",
            usage.usd,
            f"{manifest.get('wall_s', 0):.1f}",
        )
    return table


def _counts_cell(manifest: dict[str, Any], balance: str | None) -> str:
    counts = ", ".join(f"{k} {v}" for k, v in manifest.get("counts", {}).items())
    return f"{counts}\n{balance}" if balance else counts


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


def audit_table(summary: dict[str, Any]) -> Table:
    """The label audit: kept share and accuracy, by agreement, and the k / threshold frontier."""
    title = (
        f"label audit: {summary['items']} items of {summary['source']}, k={summary['k']}, "
        f"min_agreement={summary['min_agreement']}"
    )
    table = Table(title=title, title_justify="left")
    for column in ("what", "items", "labels right", "share"):
        table.add_column(column, justify="left" if column == "what" else "right")
    accuracy = summary["kept_accuracy"]
    table.add_row(
        "kept by the verifier",
        f"{summary['kept']} of {summary['items']}",
        f"{summary['kept_correct']} of {summary['kept']}",
        f"kept {summary['kept_share']:.0%}, right {_pct(accuracy)}",
    )
    table.add_row(
        "majority label, all items", str(summary["items"]), "", _pct(summary["majority_accuracy"])
    )
    for level in summary["by_agreement"]:
        table.add_row(
            f"  agreement {level['agreement']:.2f}",
            str(level["items"]),
            f"{level['correct']} of {level['items']}",
            _pct(level["correct"] / level["items"]),
        )
    if summary.get("base_pass_rate") is not None:
        table.add_row(
            "base model, greedy", str(summary["items"]), "", _pct(summary["base_pass_rate"])
        )
    best = [p for p in summary["frontier"] if p["kept_accuracy"] is not None]
    for point in sorted(best, key=lambda p: (-p["kept_accuracy"], -p["kept_share"]))[:6]:
        table.add_row(
            f"  frontier k={point['k']} min_agreement={point['min_agreement']:.2f}",
            "",
            "",
            f"kept {point['kept_share']:.0%}, right {_pct(point['kept_accuracy'])}",
        )
    return table


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"
