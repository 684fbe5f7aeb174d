"""Report sections about the run itself: summary and verdict, stage manifests, difficulty
histograms, training curves and the evaluation tables with per-item wins and losses. With rounds
(synthrl.rounds), the difficulty histograms and training curves are shown for each round.

Each function takes the `RunData` and returns an `Html` fragment; it raises `Unavailable` when
the data it needs is missing (the report then says why in place of the section).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from synthrl.llm.usage import format_usd
from synthrl.report import plots
from synthrl.report.data import RunData, Unavailable
from synthrl.report.html import (
    Html,
    details,
    img,
    join,
    kv_table,
    not_available,
    para,
    table,
    tag,
)

ALPHA = 0.05  # McNemar significance level for the verdict
MODES = ("strict", "lenient")


def attempt(render: Any, *args: Any) -> Html:
    """`render(*args)`, or a "not available" line saying why it could not be shown."""
    try:
        return render(*args)
    except Unavailable as why:
        return not_available(str(why))
    except Exception as err:  # a malformed artifact must not take the whole report down
        return not_available(f"error while reading the artifacts ({type(err).__name__}: {err})")


def pct(x: float) -> str:
    return f"{x:.1%}"


def interval(ci: Sequence[float] | None, signed: bool = False) -> str:
    if not ci or len(ci) != 2:
        return ""
    fmt = "{:+.1%}" if signed else "{:.1%}"
    return f"[{fmt.format(ci[0])}, {fmt.format(ci[1])}]"


# --- 1. summary -------------------------------------------------------------------------------


def summary(data: RunData) -> Html:
    info = data.info
    pairs = [
        ("task", info.get("task", "?")),
        ("task file", info.get("task_file", "?")),
        ("preset", info.get("preset", "?")),
        ("base model", data.config("models", "base") or "?"),
        ("instructor model", data.config("models", "instructor") or "?"),
        ("run directory", str(data.root.resolve())),
    ]
    return join([kv_table(pairs), tag("h3", "Headline result"), attempt(headline, data)])


def verdict(comparison: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    """The claim the evaluation supports (McNemar p < ALPHA) and a CSS class for it."""

    def significant(mode: str, better: bool) -> bool:
        c = comparison[mode]
        direction = c["wins"] > c["losses"] if better else c["losses"] > c["wins"]
        return c["mcnemar_p"] < ALPHA and direction

    if significant("lenient", True):
        return "accuracy improved (lenient accuracy rose significantly)", "good"
    if significant("strict", True) and significant("lenient", False):
        return (
            "the model learnt the answer format but got worse at the task (strict accuracy rose "
            "significantly, lenient accuracy fell significantly)",
            "bad",
        )
    if significant("strict", True):
        return (
            "the model learnt the answer format (strict accuracy, the task's own output "
            "contract, rose significantly; lenient accuracy, the reasoning, did not change "
            "significantly)",
            "format",
        )
    if significant("lenient", False):
        return "accuracy got worse (lenient accuracy fell significantly)", "bad"
    return "no significant change (McNemar p >= 0.05 in both modes)", "none"


def headline(data: RunData) -> Html:
    comparison = data.results["comparison"]
    text, cls = verdict(comparison)
    return join(
        [
            tag("div", f"Verdict: {text}", f"verdict {cls}"),
            comparison_table(comparison),
            para(
                f"{data.results['base'].get('items', '?')} real evaluation items; intervals are "
                "95% Wilson (accuracies) and paired bootstrap (difference); wins are items only "
                "the trained model got right, losses items only the base model got right; "
                f"significance: exact McNemar test, p < {ALPHA}.",
                "muted",
            ),
        ]
    )


def comparison_table(comparison: Mapping[str, Mapping[str, Any]]) -> Html:
    headers = ["mode", "base", "trained", "difference", "wins / losses", "McNemar p"]
    rows = [
        [
            mode,
            f"{pct(c['base'])} {interval(c.get('base_ci'))}",
            f"{pct(c['trained'])} {interval(c.get('trained_ci'))}",
            f"{c['diff']:+.1%} {interval(c.get('diff_ci'), signed=True)}",
            f"{c['wins']} / {c['losses']}",
            f"{c['mcnemar_p']:.3g}",
        ]
        for mode, c in ((m, comparison[m]) for m in MODES if m in comparison)
    ]
    return table(headers, rows, numeric=range(1, 6))


# --- 2. stages --------------------------------------------------------------------------------


def stages(data: RunData) -> Html:
    from synthrl.report.per_round import stage_names

    headers = ["stage", "state", "counts", "drops", "requests", "prompt tok", "completion tok"]
    headers += ["cache hits", "USD", "wall s"]
    rows, notes = [], []
    totals = [0, 0, 0, 0, 0.0, 0, 0.0]
    for name in data.stage_folders(stage_names(data)):  # round stages too
        manifest = data.manifest(name)
        if manifest is None:
            state = "unfinished" if (data.root / name).is_dir() else "not run"
            rows.append([name, state, "", "", "", "", "", "", "", ""])
            continue
        usage = _usage(manifest.get("usage") or [])
        nums = [*usage, float(manifest.get("wall_s") or 0.0)]
        totals = [t + n for t, n in zip(totals, nums, strict=True)]
        rows.append(
            [
                name,
                "done",
                _pairs(manifest.get("counts")),
                _pairs(manifest.get("drops")),
                *_usage_cells(nums),
            ]
        )
        notes += [f"{name}: {n}" for n in manifest.get("notes") or []]
    total = ["total", "", "", "", *_usage_cells(totals)]
    body = table(headers, rows, numeric=range(4, 10), total=total)
    if notes:
        body = join([body, tag("h3", "Notes"), tag("ul", join(tag("li", n) for n in notes))])
    return body


def _usage(rows: Sequence[Mapping[str, Any]]) -> list[float]:
    keys = (
        "requests",
        "prompt_tokens",
        "completion_tokens",
        "cache_hits",
        "cost_usd",
        "unpriced_tokens",
    )
    return [sum(float(r.get(k) or 0) for r in rows) for k in keys]


def _usage_cells(nums: Sequence[float]) -> list[str]:
    requests, prompt, completion, hits, usd, unpriced, wall = nums
    return [
        f"{requests:,.0f}",
        f"{prompt:,.0f}",
        f"{completion:,.0f}",
        f"{hits:,.0f}",
        format_usd(usd, int(unpriced)),
        f"{wall:,.1f}",
    ]


def _pairs(mapping: Mapping[str, Any] | None) -> str:
    return ", ".join(f"{k} {v}" for k, v in (mapping or {}).items())


# --- 3. difficulty ----------------------------------------------------------------------------


def each_round(data: RunData, stage: str, render: Callable[[RunData, str, int], Html]) -> Html:
    """`render(data, folder, r)` of a one-round run's `stage`; with rounds, each round's under
    its heading (round r's folder is round-r/STAGE, round 1's the run's own), one not available
    line for a round without the data."""
    from synthrl.report.per_round import folder

    count = data.rounds
    if count == 1:
        return render(data, stage, 1)
    parts = [
        para(
            f"{count} rounds (synthrl.rounds), each round's {stage} stage in turn; section 9 "
            "compares the rounds."
        )
    ]
    for r in range(1, count + 1):
        name = folder(stage, r)
        parts += [tag("h3", f"Round {r} ({name})"), attempt(render, data, name, r)]
    return join(parts)


def difficulty(data: RunData) -> Html:
    return each_round(data, "score", _difficulty)


def _difficulty(data: RunData, stage: str, r: int) -> Html:
    data.require(stage)
    hist = data.json(f"{stage}/histograms.json")
    edges = hist["bins"]
    initial, after = sum(hist["initial"]), sum(hist["after_adaptation"])
    origins = list(hist.get("by_origin", {}))
    rows = [
        [f"{lo:.1f}-{hi:.1f}", a, b, *(hist["by_origin"][o][i] for o in origins)]
        for i, (lo, hi, a, b) in enumerate(
            zip(edges[:-1], edges[1:], hist["initial"], hist["after_adaptation"], strict=True)
        )
    ]
    counts = table(["pass rate", "initial", "after adaptation", *origins], rows, range(1, 9))
    if r == 1:
        text = (
            f"Base-model pass rate of each synthetic sample: {initial} initial samples, "
            f"{after} after adaptation (initial + harder + easier rewrites)."
        )
    else:
        text = (
            f"Pass rate of each synthetic sample under round {r}'s base (round {r - 1}'s "
            f"trained model): {initial} initial samples, {after} after this round's adaptation "
            "(the previous round's pool + this round's rewrites)."
        )
    return join(
        [
            para(text),
            img(plots.difficulty(hist), f"{stage}: pass rates before and after adaptation"),
            details("counts per bin", counts),
        ]
    )


# --- 6. training ------------------------------------------------------------------------------


def training(data: RunData) -> Html:
    return each_round(data, "train", _training)


def _training(data: RunData, stage: str, r: int) -> Html:
    path = data.root / stage / "metrics.jsonl"
    finished = data.manifest(stage) is not None
    if not path.is_file():
        state = "finished" if finished else "not finished"
        raise Unavailable(f"{stage}/metrics.jsonl not found (stage {stage} {state})")
    rows = data.rows(stage, "metrics.jsonl", unfinished_ok=True)
    if not any(isinstance(row.get(m), int | float) for row in rows for m in plots.CURVES):
        raise Unavailable(f"{stage}/metrics.jsonl has no logged reward, kl, length, loss or lr")
    metrics = [m for m in plots.CURVES if any(m in row for row in rows)]
    table_rows = [[m, _first(rows, m), _last(rows, m)] for m in metrics]
    parts = [] if finished else [not_available("training has not finished: partial curves")]
    start = f", from round {r - 1}'s trained model" if r > 1 else ""
    parts += [
        para(
            f"{len({row.get('step') for row in rows})} logged steps "
            f"(last step {rows[-1].get('step', '?')}{start})."
        ),
        *signal_lines(rows),
        img(plots.training(rows), f"{stage}: training curves"),
        table(["metric", "first", "last"], table_rows, numeric=(1, 2)),
    ]
    return join(parts)


def signal_lines(rows: Sequence[Mapping[str, Any]]) -> list[Html]:
    """The mean share of groups without learning signal over the run (a GRPO group whose
    completions all get the same reward has zero advantage), and what `train.skip_settled` did."""
    lines = []
    trl = _values(rows, "frac_reward_zero_std")
    if trl:
        lines.append(
            f"Groups without learning signal (all completions the same reward, TRL's "
            f"frac_reward_zero_std): {pct(sum(trl) / len(trl))} on average over {len(trl)} steps."
        )
    binary = _values(rows, "zero_signal_share")
    if binary:
        lines.append(
            f"Groups all correct or all wrong by the answer checker's verdict: "
            f"{pct(sum(binary) / len(binary))} on average over {len(binary)} steps."
        )
    skipped, fallback = _values(rows, "skipped_prompts"), _values(rows, "fallback_prompts")
    if skipped or fallback:
        lines.append(
            f"train.skip_settled: {sum(skipped):.0f} draws of settled prompts skipped, "
            f"{sum(fallback):.0f} settled prompts drawn anyway to fill a batch."
        )
    return [para(line) for line in lines]


def _values(rows: Sequence[Mapping[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in rows if isinstance(r.get(key), int | float)]


def _first(rows: Sequence[Mapping[str, Any]], key: str) -> str:
    return next((f"{r[key]:.4g}" for r in rows if isinstance(r.get(key), int | float)), "")


def _last(rows: Sequence[Mapping[str, Any]], key: str) -> str:
    return _first(list(reversed(rows)), key)


# --- 7. evaluation ----------------------------------------------------------------------------


def evaluation(data: RunData) -> Html:
    results = data.results
    headers = ["model", "items", "seeds", "strict", "lenient"]
    rows = [[name, *_model_cells(results[name])] for name in ("base", "trained")]
    return join(
        [
            table(headers, rows, numeric=(1, 3, 4)),
            comparison_table(results["comparison"]),
            tag("h3", "Per-item wins and losses"),
            attempt(examples, data),
        ]
    )


def _model_cells(r: Mapping[str, Any]) -> list[str]:
    cells = [str(r.get("items", "")), ", ".join(str(s) for s in r.get("seeds", []))]
    for mode in MODES:
        std = r.get(f"{mode}_std") or 0.0
        spread = f" ± {std:.1%}" if len(r.get("seeds", [])) > 1 else ""
        cells.append(f"{pct(r[f'{mode}_mean'])}{spread} {interval(r.get(f'{mode}_wilson'))}")
    return cells


def examples(data: RunData, per_kind: int = 3) -> Html:
    """A few items the trained model won and lost against the base (their first-seed
    completions; the counts are the comparison's, by majority over seeds)."""
    predictions = data.rows("evaluate", "predictions.jsonl")
    first: dict[str, dict[str, dict[str, Any]]] = {"base": {}, "trained": {}}
    for p in predictions:
        by_model = first.get(p.get("model", ""))
        if by_model is not None:
            by_model.setdefault(str(p.get("id")), p)
    paired = [
        (i, b, first["trained"][i]) for i, b in first["base"].items() if i in first["trained"]
    ]
    if not paired:
        raise Unavailable("evaluate/predictions.jsonl has no item answered by both models")
    questions = _questions(data)
    parts = []
    for mode, key in (("lenient", "correct"), ("strict", "strict")):
        wins = [x for x in paired if x[2].get(key) and not x[1].get(key)]
        losses = [x for x in paired if x[1].get(key) and not x[2].get(key)]
        counted = data.results.get("comparison", {}).get(mode, {})
        parts.append(
            para(
                f"{mode}: {counted.get('wins', len(wins))} wins, "
                f"{counted.get('losses', len(losses))} losses; examples from the first seed."
            )
        )
        for label, chosen in (("win", wins[:per_kind]), ("loss", losses[:per_kind])):
            parts += [_example(label, mode, questions.get(x[0]), *x) for x in chosen]
    return join(parts)


def _questions(data: RunData) -> dict[str, str]:
    """Evaluation item id -> the text posed to the models, where the items load."""
    from synthrl.report.analysis import eval_items

    try:
        return {item.id: item.input for item in eval_items(data)[0]}
    except Unavailable:
        return {}


def _example(
    label: str,
    mode: str,
    question: str | None,
    item: str,
    base: dict[str, Any],
    trained: dict[str, Any],
) -> Html:
    title = (
        f"{mode} {label}: item {item}, gold {base.get('gold')}, base answered "
        f"{base.get('answer')!s}, trained answered {trained.get('answer')!s}"
    )
    asked = [tag("h3", "question"), tag("pre", question)] if question else []
    body = join(
        [
            *asked,
            tag("h3", "base completion"),
            tag("pre", base.get("completion", "")),
            tag("h3", "trained completion"),
            tag("pre", trained.get("completion", "")),
        ]
    )
    return details(title, body)
