"""Base vs trained on the same items: accuracies with Wilson intervals, the paired-bootstrap
interval of the difference, McNemar wins/losses, for strict and lenient judging."""

from __future__ import annotations

from typing import Any

from synthrl.evaluate.metrics import bootstrap_diff, mcnemar


def compare(base: dict[str, Any], trained: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in ("strict", "lenient"):
        a, b = base[f"{mode}_by_item"], trained[f"{mode}_by_item"]
        wins, losses, p = mcnemar(a, b)
        low, high = bootstrap_diff(a, b)
        out[mode] = {
            "base": base[f"{mode}_mean"],
            "trained": trained[f"{mode}_mean"],
            "base_std": base[f"{mode}_std"],
            "trained_std": trained[f"{mode}_std"],
            "base_ci": base[f"{mode}_wilson"],
            "trained_ci": trained[f"{mode}_wilson"],
            "diff": trained[f"{mode}_mean"] - base[f"{mode}_mean"],
            "diff_ci": [low, high],
            "wins": wins,
            "losses": losses,
            "mcnemar_p": p,
        }
    return out


def table_rows(comparison: dict[str, Any]) -> list[list[str]]:
    """Rows for a printed table: mode, base, trained, difference, wins/losses, p."""
    rows = []
    for mode, c in comparison.items():
        rows.append(
            [
                mode,
                f"{c['base']:.1%} [{c['base_ci'][0]:.0%}, {c['base_ci'][1]:.0%}]",
                f"{c['trained']:.1%} [{c['trained_ci'][0]:.0%}, {c['trained_ci'][1]:.0%}]",
                f"{c['diff']:+.1%} [{c['diff_ci'][0]:+.0%}, {c['diff_ci'][1]:+.0%}]",
                f"{c['wins']} / {c['losses']}",
                f"{c['mcnemar_p']:.3g}",
            ]
        )
    return rows
