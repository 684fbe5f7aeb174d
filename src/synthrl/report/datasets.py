"""Report sections about the data: input lengths and semantic similarity of the synthetic set vs
the real evaluation items (paper Figs. 19-24), and a browser of synthetic samples joined with
their passage, verification, pass rate and selection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from synthrl.report import analysis, plots
from synthrl.report.data import RunData, Unavailable
from synthrl.report.html import (
    Html,
    details,
    img,
    join,
    long_text,
    not_available,
    para,
    table,
    tag,
)

SYNTHETIC = "synthetic (after adaptation)"
BROWSE = 50  # samples shown in the browser


def _sets(data: RunData) -> tuple[dict[str, list[str]], list[Html]]:
    """The synthetic inputs (required) and the real ones (a "not available" line if missing)."""

    sets = {SYNTHETIC: analysis.synthetic_inputs(data)}
    try:
        texts, source = analysis.real_inputs(data)
        sets[f"real ({source})"] = texts
        return sets, []
    except Unavailable as why:
        return sets, [not_available(f"real data: {why}")]


def _stats_table(series: Mapping[str, Sequence[float]], digits: int, unit: str) -> Html:
    headers = ["set", unit, "mean", "median", "p10", "p90", "min", "max"]
    rows = []
    for name, values in series.items():
        s = analysis.stats(values)
        keys = ("mean", "median", "p10", "p90", "min", "max")
        rows.append([name, f"{s['n']:,.0f}", *(f"{s.get(k, 0):.{digits}f}" for k in keys)])
    return table(headers, rows, numeric=range(1, 8))


def lengths(data: RunData) -> Html:
    sets, missing = _sets(data)
    count, unit = analysis.length_counter(data)
    series = {name: [count(t) for t in texts] for name, texts in sets.items()}
    return join(
        [
            *missing,
            para(f"Input length in {unit}; at most {analysis.CAP} inputs per set."),
            img(
                plots.distributions(series, "input length", f"length ({unit.split()[0]})"),
                "input length distributions",
            ),
            _stats_table(series, 1, "inputs"),
        ]
    )


def similarity(data: RunData) -> Html:
    sets, missing = _sets(data)
    series, reasons = {}, []
    for name, texts in sets.items():
        try:
            series[name] = analysis.pairwise_cosines(texts).tolist()
        except Unavailable as why:
            reasons.append(f"{name}: {why}")
    if not series:
        raise Unavailable("; ".join(reasons))
    return join(
        [
            *missing,
            *(not_available(r) for r in reasons),
            para(
                "Cosine similarity of all-MiniLM-L6-v2 sentence embeddings over every pair of "
                f"inputs within a set (at most {analysis.CAP} inputs per set); lower means more "
                "semantically diverse."
            ),
            img(
                plots.distributions(series, "within-set pairwise cosine similarity", "cosine"),
                "pairwise cosine similarity distributions",
            ),
            _stats_table(series, 3, "pairs"),
        ]
    )


# --- 8. synthetic data browser ----------------------------------------------------------------


def browser(data: RunData, limit: int = BROWSE) -> Html:
    samples = data.synthetic
    scores = data.by_id("score", "scores.jsonl")
    ranking = data.by_id("select", "ranking.jsonl")
    passages = data.by_id("retrieve", "passages.jsonl")
    order = sorted(
        range(len(samples)),
        key=lambda i: (ranking.get(str(samples[i].get("id")), {}).get("rank", 1e9), i),
    )
    shown = [samples[i] for i in order[:limit]]
    notes = [
        f"{len(shown)} of {len(samples)} synthetic samples (adapt/samples.jsonl), "
        "in selection-ranking order."
    ]
    notes += [
        f"{name} not available." for name, m in (("scores", scores), ("ranking", ranking)) if not m
    ]
    headers = ["sample", "input", "label (votes)", "pass rate", "selected", "passage"]
    rows = [_row(s, scores, ranking, passages) for s in shown]
    widths = ("10%", "34%", "12%", "10%", "14%", "20%")
    return join([para(" ".join(notes)), table(headers, rows, cls="wide", widths=widths)])


def _row(
    s: Mapping[str, Any],
    scores: Mapping[str, Mapping[str, Any]],
    ranking: Mapping[str, Mapping[str, Any]],
    passages: Mapping[str, Mapping[str, Any]],
) -> list[object]:
    sid = str(s.get("id", ""))
    origin = str(s.get("origin", "?"))
    head = [tag("code", sid), Html("<br>"), tag("span", origin, f"tag {origin}")]
    if s.get("parent"):
        head += [Html("<br>"), tag("span", f"from {s['parent']}", "muted")]
    return [
        join(head),
        long_text(s.get("input", ""), 160),
        _label(s),
        _pass_rate(scores.get(sid)),
        _selected(ranking.get(sid)),
        _passage(s.get("passage_id"), passages),
    ]


def _label(s: Mapping[str, Any]) -> Html:
    """The majority label, its agreement among the instructor's votes, the generated output."""
    parts = [long_text(s.get("label", ""), 40)]
    if "agreement" in s:
        votes = f"{s.get('votes', '?')}/{s.get('k', '?')}"
        parts.append(tag("div", f"agreement {float(s['agreement']):.2f} ({votes})", "muted"))
    if s.get("output"):
        parts.append(details("generated output", tag("pre", s["output"])))
    return join(parts)


def _pass_rate(sc: Mapping[str, Any] | None) -> object:
    if not sc:
        return tag("span", "not scored", "muted")
    note = f"{sc.get('correct', '?')}/{sc.get('attempts', '?')} correct, "
    note += f"score {float(sc.get('score', 0)):.2f}"
    if sc.get("stopped"):
        note += f"; stopped early: {sc['stopped']}"
    return join([f"{float(sc['pass_rate']):.2f}", tag("div", note, "muted")])


def _selected(rk: Mapping[str, Any] | None) -> object:
    if not rk:
        return tag("span", "not ranked", "muted")
    yes = bool(rk.get("selected"))
    badge = tag("span", "yes" if yes else "no", "tag yes" if yes else "tag")
    return join([badge, tag("div", rk.get("reason", ""), "muted")])


def _passage(pid: object, passages: Mapping[str, Mapping[str, Any]]) -> object:
    if not pid:
        return tag("span", "none", "muted")
    p = passages.get(str(pid))
    if p is None:
        return tag("span", f"{pid} (not found)", "muted")
    text = str(p.get("text", ""))
    snippet = text[:300] + (" ..." if len(text) > 300 else "")
    return details(p.get("title") or pid, tag("pre", snippet))
