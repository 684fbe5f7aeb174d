"""adapt: solved samples are rewritten harder, unsolved ones easier (paper 4.2, eq. 5-6, Fig. 7);
each rewrite is de-duplicated and verified exactly like a generated sample. The synthetic set is
initial + harder + easier; each sample records its origin and parent.

Writes `adapt/samples.jsonl` (the whole synthetic set) and `adapt/dropped.jsonl`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.filters import quality_filter
from synthrl.llm.base import Request
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.prompts import rewrite_messages
from synthrl.samples import parse_sample
from synthrl.stages.verify import verify_samples
from synthrl.task import Task


def rewrite(ctx: StageContext, initial: list[dict[str, Any]]) -> tuple[list, list]:
    """One rewrite per sample (harder if solved, easier if not): (parsed rewrites, failures)."""
    cfg = ctx.config.adapt
    attempts = ctx.config.generate.parse_retries + 1
    pending = list(range(len(initial)))
    rewrites: dict[int, dict[str, Any]] = {}
    failures: dict[int, dict[str, Any]] = {}
    for attempt in range(attempts):
        if not pending:
            break
        requests = [
            Request.chat(
                rewrite_messages(initial[i], harder=initial[i]["solved"]),
                temperature=cfg.temperature,
                max_tokens=cfg.max_tokens,
                seed=ctx.config.llm.seed,
                first_sample=attempt,
            )
            for i in pending
        ]
        results = ctx.generate("instructor", requests, desc="adapt: rewrite")
        still = []
        for i, result in zip(pending, results, strict=True):
            parent = initial[i]
            origin = "harder" if parent["solved"] else "easier"
            sample_id = f"{origin[0]}-{parent['id']}"
            parsed, reason = parse_sample(result.texts[0], result.samples[0].finish_reason)
            if parsed is None:
                failures[i] = {"id": sample_id, "reason": reason, "reply": result.texts[0]}
                still.append(i)
                continue
            rewrites[i] = {
                "id": sample_id,
                **parsed,
                "origin": origin,
                "parent": parent["id"],
                "passage_id": parent.get("passage_id"),
                "keyword": parent.get("keyword"),
            }
        pending = still
    return [rewrites[i] for i in sorted(rewrites)], [failures[i] for i in pending]


def run(ctx: StageContext) -> StageOutput:
    initial = ctx.run.rows("probe", "samples.jsonl")
    if not ctx.config.adapt.enabled:
        write_jsonl(ctx.out_dir / "samples.jsonl", initial)
        write_jsonl(ctx.out_dir / "dropped.jsonl", [])
        return StageOutput(
            {"initial": len(initial), "harder": 0, "easier": 0},
            notes=["adaptation disabled (ablation)"],
        )
    rewrites, dropped = rewrite(ctx, initial)
    fresh, filtered = quality_filter(rewrites, initial, ctx.config.quality)
    verified, unverified = verify_samples(ctx, fresh, desc="adapt: verify")
    dropped += filtered + unverified
    write_jsonl(ctx.out_dir / "samples.jsonl", initial + verified)
    write_jsonl(ctx.out_dir / "dropped.jsonl", dropped)
    origins = Counter(s["origin"] for s in verified)
    counts = {"initial": len(initial), "harder": origins["harder"], "easier": origins["easier"]}
    return StageOutput(counts, dict(Counter(d["reason"] for d in dropped)))


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    return {
        "instructor": config.models.instructor,
        "adapt": config.adapt.model_dump(),
        "verify": config.verify.model_dump(),
        "quality": config.quality.model_dump(),
        "retries": config.generate.parse_retries,
        "seed": config.llm.seed,
        "task": task.fingerprint(),
    }


STAGE = Stage(
    "adapt",
    run,
    settings,
    inputs=("probe",),
    version=2,  # 2: structured rewrites flattened to text; truncated replies named
    summary="harder/easier rewrites, verified (Fig. 7)",
)
