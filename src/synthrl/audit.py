"""`synthrl audit`: how often the instructor's verified labels are right, measured on real items
with known answers, before anyone pays for a run.

The instructor votes on each item exactly as the `verify` stage does (same prompt, k,
temperature, token limit, agreement threshold, cut-off policy, label checks), and its label is
compared with the item's gold answer. Reported: the share of items kept, the share of kept labels
that are right (the figure that decides whether GRPO learns from truth or from noise), accuracy
by agreement level, and, replayed from the same votes at no further cost, the accuracy / kept
frontier of every smaller k (the first k' votes: votes are drawn per index, so k' votes are a
prefix of k) and every agreement threshold. Optionally the base model's greedy pass rate on
the same items (`probe` settings). The summary (`--out FILE`) also holds every item's votes in
draw order, so other stopping rules can be replayed on them (bench/verify.py).

    synthrl audit examples/tasks/gsm8k.yaml --bench gsm8k --split train --limit 100 --preset cpu
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from synthrl.answers import equivalent, judge_many
from synthrl.config import RunConfig
from synthrl.evaluate.loaders import EvalItem
from synthrl.evaluate.runner import gold_answer, options_for
from synthrl.llm.base import Request
from synthrl.llm.client import LLM
from synthrl.prompts import solve_messages
from synthrl.synthesis.votes import verify_samples
from synthrl.task import Task


@dataclass
class AuditRow:
    """One item: its gold answer, the instructor's votes (answers) and the verdict."""

    id: str
    gold: str
    votes: list[str | None]  # the answer each vote gave (None: unreadable or cut off)
    label: str | None
    agreement: float
    kept: bool
    correct: bool  # the label equals the gold answer
    reason: str = ""  # why it was dropped
    base_solved: bool | None = None


@dataclass
class Audit:
    rows: list[AuditRow]
    k: int
    min_agreement: float
    kind: str  # the task's answer kind, the checker's for replaying the votes
    frontier: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        n = len(self.rows)
        kept = [r for r in self.rows if r.kept]
        base = [r.base_solved for r in self.rows if r.base_solved is not None]
        return {
            "items": n,
            "k": self.k,
            "min_agreement": self.min_agreement,
            "kind": self.kind,
            "kept": len(kept),
            "kept_share": len(kept) / n if n else 0.0,
            "kept_correct": sum(r.correct for r in kept),
            "kept_accuracy": sum(r.correct for r in kept) / len(kept) if kept else None,
            "majority_accuracy": sum(r.correct for r in self.rows) / n if n else 0.0,
            "base_pass_rate": sum(base) / len(base) if base else None,
            "by_agreement": by_agreement(self.rows),
            "frontier": self.frontier,
            "rows": [asdict(r) for r in self.rows],
        }


def by_agreement(rows: Sequence[AuditRow]) -> list[dict[str, Any]]:
    """Items and label accuracy at each agreement level (votes for the label / k)."""
    levels: dict[float, list[AuditRow]] = {}
    for row in rows:
        levels.setdefault(round(row.agreement, 4), []).append(row)
    return [
        {
            "agreement": level,
            "items": len(group),
            "correct": sum(r.correct for r in group),
            "kept": sum(r.kept for r in group),
        }
        for level, group in sorted(levels.items(), reverse=True)
    ]


def audit_labels(
    instructor: LLM,
    task: Task,
    items: Sequence[EvalItem],
    config: RunConfig,
    base: LLM | None = None,
) -> Audit:
    """Vote on `items` as `verify` does and compare each label with the gold answer. All k
    votes are drawn even under `verify.adaptive` (which keeps the same labels and the same kept
    set with fewer votes): the frontier replays every (k, min_agreement) over them."""
    cfg = config.verify.model_copy(update={"adaptive": False, "delta": 0.0})
    samples = [{"id": item.id, "input": item.input, "output": ""} for item in items]

    def generate(requests: list[Request], desc: str = "") -> list[Any]:
        return instructor.generate(requests, stage="audit", desc=desc or "audit: votes")

    kept, dropped = verify_samples(generate, task, cfg, config.llm.seed, samples)
    outcome = {s["id"]: s for s in [*kept, *dropped]}
    rows = []
    for item in items:
        sample, gold = outcome[item.id], gold_answer(item, task)
        label = sample.get("label")
        opts = options_for(item, task)
        rows.append(
            AuditRow(
                id=item.id,
                gold=gold,
                votes=sample.get("answers", []),
                label=label,
                agreement=float(sample.get("agreement", 0.0)),
                kept="reason" not in sample,
                correct=label is not None and equivalent(label, gold, task.answer.kind, **opts),
                reason=sample.get("reason", ""),
            )
        )
    if base is not None:
        for row, solved in zip(rows, base_pass(base, task, items, config), strict=True):
            row.base_solved = solved
    points = frontier(rows, task, items, cfg.k)
    return Audit(rows, cfg.k, cfg.min_agreement, task.answer.kind, points)


def base_pass(base: LLM, task: Task, items: Sequence[EvalItem], config: RunConfig) -> list[bool]:
    """The base model's greedy answer to each item (probe settings), judged against the gold."""
    requests = [
        Request.chat(
            solve_messages(task, item.input),
            temperature=0.0,
            max_tokens=config.probe.max_tokens,
            seed=config.llm.seed,
        )
        for item in items
    ]
    results = base.generate(requests, stage="audit", desc="audit: base model")
    verdicts = []
    for item, result in zip(items, results, strict=True):
        cut = result.samples[0].finish_reason == "length"
        opts = options_for(item, task)
        gold = gold_answer(item, task)
        verdicts.append(judge_many(result.texts[:1], gold, task.answer.kind, [cut], **opts)[0])
    return verdicts


def frontier(
    rows: Sequence[AuditRow], task: Task, items: Sequence[EvalItem], k: int
) -> list[dict[str, Any]]:
    """Kept share and kept-label accuracy for every k' <= k and agreement threshold, replayed
    from the recorded votes (the first k' of them) with the checker's majority vote."""
    from synthrl.answers import vote_answers

    points = []
    for k_sub in range(1, k + 1):
        votes = []
        for row, item in zip(rows, items, strict=True):
            vote = vote_answers(row.votes[:k_sub], task.answer.kind, 0.0, **options_for(item, task))
            right = vote.answer is not None and equivalent(
                vote.answer, row.gold, task.answer.kind, **options_for(item, task)
            )
            votes.append((vote, right))
        for need in range(1, k_sub + 1):
            threshold = need / k_sub
            kept = [right for vote, right in votes if vote.votes >= need and not vote.tied]
            points.append(
                {
                    "k": k_sub,
                    "min_agreement": round(threshold, 4),
                    "kept_share": len(kept) / len(rows) if rows else 0.0,
                    "kept_accuracy": sum(kept) / len(kept) if kept else None,
                }
            )
    return points
