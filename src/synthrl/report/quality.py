"""Whether to trust the synthetic data before training on it: the report's data-quality section
and the label counts `synthrl status` shows.

- per-label (label, yes/no) or per-correct-position (choice) counts of the targets generation
  asked for, the verified samples, the synthetic set after adaptation and the selected ones;
- the drop reasons of generate, verify and adapt by filter, with examples;
- the share of samples the verifier relabelled (the generator's output disagreed with the
  majority vote), and the share whose verified label met the asked target;
- the instructor's agreement distribution, kept and dropped;
- the label audit's accuracy, when `synthrl audit ... --out RUN/audit.json` was run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synthrl.report.data import RunData, Unavailable
from synthrl.report.html import Html, details, join, long_text, para, table, tag
from synthrl.synthesis.balance import (
    BALANCED_KINDS,
    STAGE_FILES,
    answer_values,
    format_counts,
    label_counts,
    largest_share,
    target_counts,
)

DROP_STAGES = ("generate", "verify", "adapt")
AUDIT_FILE = "audit.json"
EXAMPLES_PER_REASON = 2


def _rows(data: RunData, stage: str, name: str) -> list[dict[str, Any]] | None:
    try:
        return data.rows(stage, name)
    except Unavailable:
        return None


def _kind(data: RunData) -> tuple[str, list[str]]:
    task = data.task()
    return task.answer.kind, answer_values(task)


def distributions(data: RunData) -> dict[str, dict[str, int]]:
    """Label counts of each finished sample set ("asked" = the generation targets, then
    verified, after adaptation, selected), in the task's label order; {} for other kinds."""
    kind, values = _kind(data)
    if kind not in BALANCED_KINDS:
        return {}
    out: dict[str, dict[str, int]] = {}
    generated = _rows(data, "generate", "samples.jsonl")
    if generated and any(r.get("target") is not None for r in generated):
        out["asked"] = target_counts(generated, values)
    for name, stage, file in STAGE_FILES:
        rows = _rows(data, stage, file)
        if rows is not None:
            out[name] = label_counts(rows, values)
    return out


def status_lines(run_dir: Path) -> dict[str, str]:
    """For `synthrl status`: a label-count line per stage (generate: the asked targets)."""
    data = RunData(run_dir)
    try:
        counts = distributions(data)
        kind, _ = _kind(data)
    except Unavailable:
        return {}
    word = "positions" if kind == "choice" else "labels"
    stage_of = {"asked": "generate", **{name: stage for name, stage, _ in STAGE_FILES}}
    lines = {}
    for name, dist in counts.items():
        head = "targets" if name == "asked" else word
        lines[stage_of[name]] = f"{head}: {format_counts(dist)}"
    return lines


def quality(data: RunData) -> Html:
    """The report section (see the module docstring)."""
    parts = [_balance(data), tag("h3", "Drops by filter"), _drops(data)]
    parts += [tag("h3", "Verification"), _verification(data), tag("h3", "Label audit")]
    parts.append(_audit(data))
    return join(parts)


def _balance(data: RunData) -> Html:
    kind, values = _kind(data)
    if kind not in BALANCED_KINDS:
        return para(
            f"Label balance applies to label, yes/no and choice tasks; this task's answers are "
            f"of kind {kind}."
        )
    counts = distributions(data)
    if not counts:
        raise Unavailable("no sample set has been verified yet (stage verify has not run)")
    what = "correct position" if kind == "choice" else "label"
    names = list(counts)
    labels = list(dict.fromkeys(label for dist in counts.values() for label in dist))
    rows = [[label, *(_share(counts[n], label) for n in names)] for label in labels]
    rows.append(["largest share", *(f"{largest_share(counts[n]):.0%}" for n in names)])
    asked = (
        "on: generation request i asked for target i of the cycle "
        f"({', '.join(values)}); the verified label, not the target, is the sample's label"
        if "asked" in counts
        else "off (generate.balance): generation named no target answer"
    )
    return join(
        [
            para(f"Balance by design: {asked}."),
            table([what, *names], rows, numeric=range(1, len(names) + 1)),
        ]
    )


def _share(counts: Mapping[str, int], label: str) -> str:
    total = sum(counts.values())
    n = counts.get(label, 0)
    return f"{n} ({n / total:.0%})" if total else "0"


def _drops(data: RunData) -> Html:
    dropped = {s: _rows(data, s, "dropped.jsonl") or [] for s in DROP_STAGES}
    reasons = Counter(str(d.get("reason")) for rows in dropped.values() for d in rows)
    if not reasons:
        return para("No sample was dropped by generate, verify or adapt.")
    headers = ["reason", *DROP_STAGES, "total"]
    rows = []
    for reason, total in reasons.most_common():
        per = [sum(d.get("reason") == reason for d in dropped[s]) for s in DROP_STAGES]
        rows.append([reason, *per, total])
    examples = [details(f"{r}: examples", _examples(dropped, r)) for r, _ in reasons.most_common()]
    return join([table(headers, rows, numeric=range(1, 5)), *examples])


def _examples(dropped: Mapping[str, list[dict[str, Any]]], reason: str) -> Html:
    shown = [
        (stage, d) for stage, rows in dropped.items() for d in rows if d.get("reason") == reason
    ][:EXAMPLES_PER_REASON]
    items = []
    for stage, d in shown:
        text = d.get("input") or d.get("reply") or ""
        evidence = d.get("evidence") or d.get("match") or ""
        head = f"{stage} {d.get('id', '?')}" + (f": {evidence}" if evidence else "")
        items.append(tag("li", join([tag("code", head), " ", long_text(text, 160)])))
    return tag("ul", join(items))


def _verification(data: RunData) -> Html:
    verified = _rows(data, "verify", "samples.jsonl")
    if verified is None:
        raise Unavailable("stage verify has not run")
    dropped = _rows(data, "verify", "dropped.jsonl") or []
    n = len(verified)
    relabelled = sum(1 for s in verified if s.get("generator_agrees") is False)
    lines = [f"{n} verified samples; the verifier relabelled {relabelled} ({_pct(relabelled, n)})"]
    targeted = [s for s in verified if s.get("target") is not None]
    if targeted:
        met = sum(1 for s in targeted if str(s.get("label")) == str(s["target"]))
        lines.append(f"{met} of {len(targeted)} ({_pct(met, len(targeted))}) met their target")
    kept = Counter(round(float(s.get("agreement", 0)), 2) for s in verified)
    lost = Counter(round(float(d["agreement"]), 2) for d in dropped if "agreement" in d)
    levels = sorted(set(kept) | set(lost), reverse=True)
    rows = [[f"{level:.2f}", kept[level], lost[level]] for level in levels]
    return join(
        [
            para("; ".join(lines) + "."),
            table(["instructor agreement", "kept", "dropped"], rows, numeric=(1, 2)),
        ]
    )


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "0%"


def _audit(data: RunData) -> Html:
    path = data.root / AUDIT_FILE
    if not path.is_file():
        return para(
            f"No label audit in this run directory: `synthrl audit TASK --bench NAME --out "
            f"{data.root}/{AUDIT_FILE}` measures how often the instructor's kept labels are "
            "right on real items with known answers.",
            "muted",
        )
    audit = data.json(AUDIT_FILE)
    accuracy = audit.get("kept_accuracy")
    right = "n/a" if accuracy is None else f"{accuracy:.1%}"
    return para(
        f"Audit on {audit.get('items', '?')} items of {audit.get('source', '?')} (k="
        f"{audit.get('k', '?')}, min_agreement {audit.get('min_agreement', '?')}): kept "
        f"{audit.get('kept', '?')} ({float(audit.get('kept_share') or 0):.0%}), kept labels "
        f"right {right}."
    )
