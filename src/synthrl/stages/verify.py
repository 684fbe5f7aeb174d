"""verify: the instructor answers each sample k times; the majority answer (grouped by the answer
checker's equivalence) becomes the label, with its agreement; samples below the minimum agreement
are dropped (the paper's released code had no threshold).

Writes `verify/samples.jsonl` (+ label, agreement, votes, parsed, k, reference, generator_agrees)
and `verify/dropped.jsonl`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.samples import apply_votes, verify_requests
from synthrl.task import Task


def verify_samples(
    ctx: StageContext, samples: Sequence[dict[str, Any]], desc: str = "verify"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Majority-vote labels for `samples`: (kept, dropped)."""
    cfg = ctx.config.verify
    requests = verify_requests(
        ctx.task, samples, cfg.k, cfg.temperature, cfg.max_tokens, ctx.config.llm.seed
    )
    results = ctx.generate("instructor", requests, desc=desc)
    # A vote cut off by max_tokens has no final answer: it counts as unparsed, not as the last
    # number it happened to reach.
    votes = [[x.text if x.finish_reason != "length" else "" for x in r.samples] for r in results]
    return apply_votes(ctx.task, samples, votes, cfg.min_agreement)


def run(ctx: StageContext) -> StageOutput:
    samples = ctx.run.rows("generate", "samples.jsonl")
    kept, dropped = verify_samples(ctx, samples)
    write_jsonl(ctx.out_dir / "samples.jsonl", kept)
    write_jsonl(ctx.out_dir / "dropped.jsonl", dropped)
    relabeled = sum(1 for s in kept if not s["generator_agrees"])
    counts = {"samples": len(kept), "relabeled": relabeled}
    return StageOutput(counts, dict(Counter(d["reason"] for d in dropped)))


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    return {
        "instructor": config.models.instructor,
        "verify": config.verify.model_dump(),
        "seed": config.llm.seed,
        "task": task.fingerprint(),
    }


STAGE = Stage(
    "verify",
    run,
    settings,
    inputs=("generate",),
    version=2,  # 2: truncated votes count as unparsed
    summary="majority vote of k instructor answers",
)
