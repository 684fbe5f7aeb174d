"""Balance by design for `label`, `yes_no` and `choice` tasks, and the label distributions that
show whether it worked.

A small instructor writes most samples with one answer (7 of 12 with the first label, 8 of 9
"yes", the correct option mostly at A). With `generate.balance` on, generation request i names
a target answer, `targets[i % len(targets)]`: the labels in the task's order, yes / no, or the
option letters (so the correct letter is spread over the positions). The target is only asked
for: the verified label (the instructor's majority vote) stays the sample's label, and the
sample records its `target` beside it.

`generate.balance` is `auto` by default: on for these kinds under every preset except `paper`,
whose generation prompt stays the paper's Figure 6 (which names no target); `true` / `false`
force it on / off.

The embedded instructor cannot write some labels however it is asked (on a 3-label review task
every 'neutral' request came back as a positive review: positive 17 / negative 12 / neutral 0
verified). So `verify.max_label_share` (ours; 0.5 under `cpu`, off in `paper`) caps the largest
label's share after the vote: `cap_label_share` drops the lowest-agreement samples of the most
common label, each kept in `verify/dropped.jsonl` with reason `label_share`. Only the `verify`
stage caps; `adapt`'s verification of its rewrites does not.

`label_counts` and `balance_rows` count the labels of a stage's samples (verified, after
adaptation, selected), in the targets' order, for `synthrl status` and the report.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from synthrl.config import RunConfig
from synthrl.task import Task

BALANCED_KINDS = ("label", "yes_no", "choice")
STAGE_FILES = (
    ("verified", "verify", "samples.jsonl"),
    ("after adaptation", "adapt", "samples.jsonl"),
    ("selected", "select", "selected.jsonl"),
)
"""The sample sets whose labels are counted: (name, stage, file)."""


def answer_values(task: Task) -> list[str]:
    """The answers a `label`, `yes_no` or `choice` task can have, in order ([] for others)."""
    kind = task.answer.kind
    if kind == "label":
        return list(task.answer.labels or [])
    if kind == "yes_no":
        return ["yes", "no"]
    if kind == "choice":
        return list(task.answer.letters or "ABCD")
    return []


def balance_on(task: Task, config: RunConfig) -> bool:
    """Whether generation names a target answer (see the module docstring)."""
    setting = config.generate.balance
    if task.answer.kind not in BALANCED_KINDS or setting is False:
        return False
    return setting is True or config.preset != "paper"


def targets(task: Task, config: RunConfig) -> list[str]:
    """The targets generation cycles over ([] when balance is off)."""
    return answer_values(task) if balance_on(task, config) else []


def target_for(cycle: Sequence[str], index: int) -> str | None:
    """The target of generation request `index` (None without targets)."""
    return cycle[index % len(cycle)] if cycle else None


def label_share_cap(task: Task, config: RunConfig) -> float | None:
    """`verify.max_label_share` where it applies (label, yes_no and choice tasks), else None."""
    return config.verify.max_label_share if task.answer.kind in BALANCED_KINDS else None


def cap_label_share(
    rows: Sequence[dict[str, Any]], max_share: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(kept, dropped): while the most common label holds more than `max_share` of the remaining
    rows and at least two labels remain, drop one row of that label (of labels tied for most
    common, the one seen first in `rows`): its lowest `agreement`, the later row on ties.

    Kept rows keep their order; dropped rows are copies with `reason: label_share`, in the order
    dropped. With two labels and 0.5 the result is exactly balanced. With one label nothing is
    dropped (a cap cannot help: its share shows in `synthrl status` and the report); a
    `max_share` below 1 / (number of labels) drains the rows down to one label."""
    counts = Counter(str(r["label"]) for r in rows)
    queues = {label: deque[int]() for label in counts}
    for i in sorted(range(len(rows)), key=lambda i: (rows[i]["agreement"], -i)):
        queues[str(rows[i]["label"])].append(i)
    total, dropped = len(rows), []
    while sum(1 for n in counts.values() if n) >= 2:
        label, top = max(counts.items(), key=lambda item: item[1])
        if top / total <= max_share:
            break
        dropped.append(queues[label].popleft())
        counts[label] -= 1
        total -= 1
    gone = set(dropped)
    kept = [r for i, r in enumerate(rows) if i not in gone]
    return kept, [{**rows[i], "reason": "label_share"} for i in dropped]


def label_counts(rows: Iterable[Mapping[str, Any]], values: Sequence[str]) -> dict[str, int]:
    """How many rows have each label: the task's `values` first (0 when absent), in order, then
    any other label the verifier gave, by count."""
    counts = Counter(str(r["label"]) for r in rows if r.get("label") is not None)
    ordered = {value: counts.pop(value, 0) for value in values}
    return {**ordered, **dict(counts.most_common())}


def target_counts(rows: Iterable[Mapping[str, Any]], values: Sequence[str]) -> dict[str, int]:
    """How many rows were asked for each target (rows without a target are not counted)."""
    counts = Counter(str(r["target"]) for r in rows if r.get("target") is not None)
    return {value: counts.get(value, 0) for value in values}


def largest_share(counts: Mapping[str, int]) -> float:
    """The share of the most common label (0 for no rows)."""
    total = sum(counts.values())
    return max(counts.values()) / total if total else 0.0


def format_counts(counts: Mapping[str, int]) -> str:
    """`positive 10, negative 12, neutral 8` (the counts in their order)."""
    return ", ".join(f"{label} {n}" for label, n in counts.items())
