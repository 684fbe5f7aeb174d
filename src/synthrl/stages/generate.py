"""generate: N samples from the Figure 6 prompt, each grounded in a different passage (cycled),
with the pattern P and the demos in every prompt (paper 4.1, eq. 3-4). Replies are parsed
tolerantly; unparseable ones are re-asked a bounded number of times, then dropped with the reason.
Exact/near duplicates and samples overlapping a declared evaluation set are dropped before any
verification is paid for.

Writes `generate/samples.jsonl` and `generate/dropped.jsonl` ({..., reason, reply}).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.filters import quality_filter
from synthrl.llm.base import Request
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.prompts import generate_messages
from synthrl.samples import parse_sample
from synthrl.stages.pattern import read_pattern
from synthrl.task import Task


def passage_text(row: dict[str, Any]) -> str:
    return f"{row['title']}: {row['text']}" if row.get("title") else row["text"]


def run(ctx: StageContext) -> StageOutput:
    cfg = ctx.config.generate
    passages = ctx.run.rows("retrieve", "passages.jsonl")
    pattern = read_pattern(ctx)
    prompts = [generate_messages(ctx.task, passage_text(p), pattern) for p in passages]
    attempts = cfg.parse_retries + 1
    pending = list(range(cfg.n))
    samples: dict[int, dict[str, Any]] = {}
    failures: dict[int, tuple[str, str]] = {}
    for attempt in range(attempts):
        if not pending:
            break
        requests = [
            Request.chat(
                prompts[i % len(prompts)],
                temperature=cfg.temperature,
                max_tokens=cfg.max_tokens,
                seed=ctx.config.llm.seed,
                first_sample=(i // len(prompts)) * attempts + attempt,
            )
            for i in pending
        ]
        desc = "generate" if attempt == 0 else f"generate (retry {attempt})"
        results = ctx.generate("instructor", requests, desc=desc)
        still = []
        for i, result in zip(pending, results, strict=True):
            reply = result.texts[0]
            parsed, reason = parse_sample(reply, result.samples[0].finish_reason)
            if parsed is None:
                failures[i] = (reason, reply)
                still.append(i)
                continue
            passage = passages[i % len(passages)]
            samples[i] = {
                "id": f"g{i:05d}",
                **parsed,
                "origin": "initial",
                "parent": None,
                "passage_id": passage["id"],
                "keyword": passage["keyword"],
            }
        pending = still
    dropped = [
        {"id": f"g{i:05d}", "reason": failures[i][0], "reply": failures[i][1]} for i in pending
    ]
    ordered = [samples[i] for i in sorted(samples)]
    kept, filtered = quality_filter(ordered, [], ctx.config.quality)
    dropped += filtered
    write_jsonl(ctx.out_dir / "samples.jsonl", kept)
    write_jsonl(ctx.out_dir / "dropped.jsonl", dropped)
    reasons = Counter(d["reason"] for d in dropped)
    retried = sum(1 for i in failures if i in samples)
    return StageOutput(
        {"samples": len(kept), "requested": cfg.n, "parsed_after_retry": retried}, dict(reasons)
    )


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    return {
        "instructor": config.models.instructor,
        "generate": config.generate.model_dump(),
        "quality": config.quality.model_dump(),
        "seed": config.llm.seed,
        "task": task.fingerprint(),
    }


STAGE = Stage(
    "generate",
    run,
    settings,
    inputs=("retrieve", "pattern"),
    version=2,  # 2: structured inputs flattened to text; truncated replies named
    summary="N samples from passages (Fig. 6)",
)
