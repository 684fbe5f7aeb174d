"""The HTML report of a run directory: one self-contained `report.html` (inline CSS, plots as
base64 PNGs, no JavaScript, no external requests) with the run's summary and verdict, stage
manifests, the data's quality (label balance, drops by filter, relabelled share, agreement, label
audit), difficulty histograms (paper Fig. 3), synthetic-vs-real input lengths and semantic
similarity (Figs. 19-24), training curves, evaluation, the rounds (synthrl.rounds) and a browser
of the synthetic samples.

    from synthrl.report import build_report
    build_report(Path("runs/gsm8k"))            # -> runs/gsm8k/report/report.html

Sections whose artifacts are missing say "not available: <why>" instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from synthrl.errors import SynthRLError
from synthrl.report import datasets, per_round, quality, sections
from synthrl.report.data import RunData, Unavailable
from synthrl.report.html import Html, page

SECTIONS = (
    ("summary", "1. Summary", sections.summary),
    ("stages", "2. Stages", sections.stages),
    ("quality", "3. Data quality", quality.quality),
    ("difficulty", "4. Difficulty (paper Fig. 3)", sections.difficulty),
    ("lengths", "5. Input lengths (Figs. 19-21)", datasets.lengths),
    ("similarity", "6. Semantic similarity (Figs. 22-24)", datasets.similarity),
    ("training", "7. Training curves", sections.training),
    ("evaluation", "8. Evaluation", sections.evaluation),
    ("rounds", "9. Rounds", per_round.rounds),
    ("browser", "10. Synthetic data browser", datasets.browser),
)


def build_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the report of `run_dir` to `out` (default `run_dir/report/report.html`)."""
    data = RunData(Path(run_dir))
    if not data.root.is_dir():
        raise SynthRLError(f"{run_dir}: no such run directory (make one with `synthrl run`).")
    out = Path(out) if out is not None else data.root / "report" / "report.html"
    body: list[tuple[str, str, Html]] = [
        (anchor, title, sections.attempt(render, data)) for anchor, title, render in SECTIONS
    ]
    try:
        name = data.info.get("task", data.root.name)
    except Unavailable:
        name = data.root.name
    text = page(f"synthrl report: {name}", f"run directory {data.root.resolve()}", body)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


__all__ = ["build_report"]
