"""The report's rounds section (synthrl.rounds): per round, the pool its base probed and how
much of it that base solved, the rewrites, the pass rates before and after them (one histogram
per round), the selection, the training steps and reward, and the evaluation of the round's
model where it was evaluated (the last round's always, `evaluate/`; earlier ones with
`rounds_evaluate`, `round-r/evaluate/`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from synthrl.report import plots
from synthrl.report.data import RunData, Unavailable
from synthrl.report.html import Html, img, join, para, table
from synthrl.report.sections import MODES
from synthrl.scoring import histogram

BINS = [round(i / 10, 1) for i in range(11)]
HEADERS = [
    "round",
    "probed (solved)",
    "rewrites harder / easier",
    "scored",
    "pass rate 0 / between / 1",
    "selected (ever solved)",
    "steps",
    "reward first -> last",
    "trained strict",
    "trained lenient",
]


def stage_names(data: RunData) -> list[str]:
    """The run's stages in order, round stages included (from its saved settings)."""
    from synthrl.rounds import stages_for  # imports the stages: only when a report is built

    try:
        settings = data.info.get("config") or {}
    except Unavailable:
        settings = {}
    return [stage.name for stage in stages_for(settings if isinstance(settings, dict) else {})]


def rounds(data: RunData) -> Html:
    count = data.rounds
    if count == 1:
        return para(
            "This run trained one round (`rounds: 1`, as the paper): sections 4, 7 and 8 show "
            "it. With `--rounds R`, each round's model probes, rewrites, scores and selects the "
            "pool again and trains on, and this section compares the rounds."
        )
    rows, hists = [], []
    for r in range(1, count + 1):
        rows.append([str(r), *_cells(data, r, count)])
        pool, after = _pass_rates(data, r)
        if after:
            hists.append((f"round {r}", histogram(pool), histogram(after)))
    parts = [
        para(
            f"{count} rounds; round 1's folders are the run's own, round r's are round-r/ "
            "(sections 4 and 7 show each round's). Each round's base is the previous round's "
            "trained model (round 1's: the base model), the training steps are split over the "
            "rounds (synthrl.rounds), and section 8 evaluates the last round's model."
        ),
        table(HEADERS, rows, numeric=range(1, 10)),
    ]
    if hists:
        parts.append(img(plots.rounds(hists, BINS), "pass rates per round, pool and after"))
    return join(parts)


def _cells(data: RunData, r: int, count: int) -> list[str]:
    probe = _counts(data, folder("probe", r))
    adapt = _counts(data, folder("adapt", r))
    select = _counts(data, folder("select", r))
    train = _counts(data, folder("train", r))
    _, after = _pass_rates(data, r)
    extremes = ""
    if after:
        zero, one = sum(p == 0 for p in after), sum(p == 1 for p in after)
        extremes = f"{zero} / {len(after) - zero - one} / {one}"
    evaluated = _evaluation(data, "evaluate" if r == count else f"round-{r}/evaluate")
    return [
        _pair(probe, "solved", lambda c: c.get("solved", 0) + c.get("unsolved", 0)),
        f"{adapt['harder']} / {adapt['easier']}" if "harder" in adapt else "",
        str(len(after)) if after else "",
        extremes,
        _pair(select, "ever_solved", lambda c: c.get("selected", 0)),
        str(train.get("steps", "")),
        _rewards(data, folder("train", r)),
        *evaluated,
    ]


def folder(stage: str, r: int) -> str:
    from synthrl.rounds import folder as round_folder

    return round_folder(stage, r)


def _counts(data: RunData, stage: str) -> dict[str, Any]:
    return (data.manifest(stage) or {}).get("counts") or {}


def _pair(counts: dict[str, Any], inner: str, total: Callable[[dict[str, Any]], int]) -> str:
    return f"{total(counts)} ({counts[inner]})" if inner in counts else ""


def _pass_rates(data: RunData, r: int) -> tuple[list[float], list[float]]:
    """Round r's pass rates: of the pool its base probed, and of the whole scored set."""
    try:
        scores = data.rows(folder("score", r), "scores.jsonl")
        pool = {str(s.get("id")) for s in data.rows(folder("probe", r), "samples.jsonl")}
    except Unavailable:
        return [], []
    rates = [(str(s.get("id")), float(s.get("pass_rate", 0.0))) for s in scores]
    return [p for i, p in rates if i in pool], [p for _, p in rates]


def _rewards(data: RunData, stage: str) -> str:
    try:
        rows = data.rows(stage, "metrics.jsonl")
    except Unavailable:
        return ""
    rewards = [float(r["reward"]) for r in rows if isinstance(r.get("reward"), int | float)]
    return f"{rewards[0]:.3g} -> {rewards[-1]:.3g}" if rewards else ""


def _evaluation(data: RunData, stage: str) -> list[str]:
    """The trained model's strict and lenient accuracy in `stage`'s results ("" if none)."""
    if data.manifest(stage) is None:
        return ["", ""]
    try:
        trained = data.json(f"{stage}/results.json").get("trained") or {}
    except (Unavailable, AttributeError):
        return ["", ""]
    return [f"{trained[f'{m}_mean']:.1%}" if f"{m}_mean" in trained else "" for m in MODES]
