"""generate: N samples from the Figure 6 prompt, each grounded in a different passage (cycled),
with the pattern P and the demos in every prompt (paper 4.1, eq. 3-4). Replies are asked for as
{input, output} JSON (`reply_schemas.SAMPLE`, where the backend can constrain it:
`llm.structured`), parsed tolerantly; unparseable ones are re-asked a bounded number of times,
then dropped with the reason.
Inputs that fail the content checks (`synthrl.synthesis.checks`: reasoning or answer format
in the input, an input stating its own answer, echoing the instructions, missing a labelled part,
near-empty), exact/near duplicates and samples overlapping an evaluation set are dropped before
any verification is paid for. For label, yes/no and choice tasks each request names a target
answer, cycled (`generate.balance`, `synthrl.synthesis.balance`); rows record it as `target`.
When parse failures and drops leave fewer than N samples, the stage asks for more (new indices,
the next passages of the cycle) for at most `generate.topup_rounds` rounds, and says so in a note
when it still ends short. With retrieval off (`retrieve.enabled: false`, the no-retrieval
baseline) there are no passages: every request is the passage-free variant of the prompt
(`prompts.GENERATE_NO_PASSAGE`), told apart by its sample index (seed), and rows have no passage.

Writes `generate/samples.jsonl` and `generate/dropped.jsonl` ({..., reason, reply | evidence}).
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.llm.base import Request
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.prompts import generate_messages, generate_no_passage_messages, templates_digest
from synthrl.synthesis.balance import target_for, targets
from synthrl.synthesis.filters import quality_filter, quality_settings
from synthrl.synthesis.pattern import read_pattern
from synthrl.synthesis.reply_schemas import SAMPLE
from synthrl.synthesis.retry import ask_parsed
from synthrl.synthesis.samples import parse_result
from synthrl.task import Task


def passage_text(row: dict[str, Any]) -> str:
    return f"{row['title']}: {row['text']}" if row.get("title") else row["text"]


def run(ctx: StageContext) -> StageOutput:
    cfg = ctx.config.generate
    passages = ctx.run.rows("retrieve", "passages.jsonl")
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    asked, retried, rounds = 0, 0, 0
    while len(kept) < cfg.n and rounds <= cfg.topup_rounds:
        indices = range(asked, asked + cfg.n - len(kept))
        asked += len(indices)
        fresh, failed, after_retry = ask_samples(ctx, passages, indices, rounds)
        fresh, filtered = quality_filter(fresh, kept, ctx.config.quality, task=ctx.task)
        kept += fresh
        dropped += failed + filtered
        retried += after_retry
        rounds += 1
    write_jsonl(ctx.out_dir / "samples.jsonl", kept)
    write_jsonl(ctx.out_dir / "dropped.jsonl", dropped)
    counts = {
        "samples": len(kept),
        "requested": cfg.n,
        "parsed_after_retry": retried,
        "topup_requests": asked - cfg.n,
        "topup_rounds": rounds - 1,
    }
    notes = []
    if len(kept) < cfg.n:
        notes.append(
            f"only {len(kept)} of {cfg.n} samples after {rounds - 1} top-up rounds "
            "(generate.topup_rounds): the other replies did not parse or were dropped (see "
            "dropped.jsonl); raise generate.topup_rounds or generate.parse_retries to ask more"
        )
    return StageOutput(counts, dict(Counter(d["reason"] for d in dropped)), notes)


def ask_samples(
    ctx: StageContext, passages: list[dict[str, Any]], indices: range, round_: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Samples `indices` (sample i is written from passage i of the cycle), each re-asked up to
    `parse_retries` times: (parsed rows, parse failures, how many parsed after a retry)."""
    cfg = ctx.config.generate
    pattern = read_pattern(ctx.run)
    cycle = targets(ctx.task, ctx.config)
    spacing = cfg.parse_retries + 1  # sample indices a request uses: attempt 0 and the retries
    requests = [
        Request.chat(
            prompt_for(ctx.task, passages, i, pattern, target_for(cycle, i)),
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
            seed=ctx.config.llm.seed,
            first_sample=(i // max(len(passages), 1)) * spacing,
            schema=SAMPLE,
        )
        for i in indices
    ]
    desc = "generate" if round_ == 0 else f"generate (top-up {round_})"
    instructor = partial(ctx.generate, "instructor")
    replies = ask_parsed(instructor, requests, parse_result, cfg.parse_retries, desc=desc)
    rows = [
        sample_row(indices[k], value, passages, target_for(cycle, indices[k]))
        for k, value in sorted(replies.values.items())
    ]
    failed = [
        {"id": f"g{indices[k]:05d}", "reason": reply.reason, "reply": reply.text}
        for k, reply in sorted(replies.failures.items())
    ]
    return rows, failed, replies.after_retry


def prompt_for(
    task: Task,
    passages: list[dict[str, Any]],
    i: int,
    pattern: str | None,
    target: str | None,
) -> list[dict[str, str]]:
    """Sample i's prompt: Figure 6 with passage i of the cycle, or without a passage when
    retrieval is off (no passages)."""
    if not passages:
        return generate_no_passage_messages(task, pattern, target)
    return generate_messages(task, passage_text(passages[i % len(passages)]), pattern, target)


def sample_row(
    i: int, parsed: dict[str, str], passages: list[dict[str, Any]], target: str | None = None
) -> dict[str, Any]:
    """The row of sample i: its input and output, the passage it was written from, and the
    answer it was asked to have (`target`, with balance by design)."""
    passage = passages[i % len(passages)] if passages else {}
    row = {
        "id": f"g{i:05d}",
        **parsed,
        "origin": "initial",
        "parent": None,
        "passage_id": passage.get("id"),
        "keyword": passage.get("keyword"),
    }
    if target is not None:
        row["target"] = target
    return row


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    out: dict[str, Any] = {
        "instructor": config.models.instructor,
        "generate": config.generate.model_dump(),
        "quality": quality_settings(task, config.quality),
        "targets": targets(task, config),
        "seed": config.llm.seed,
        "task": task.fingerprint(),
    }
    if not config.retrieve.enabled:  # only then: earlier runs keep their fingerprints
        out["retrieve"] = {"enabled": False}
        out["prompt"] = templates_digest(["generate_no_passage"])
    if config.llm.structured:  # likewise
        out["structured"] = True
    return out


STAGE = Stage(
    "generate",
    run,
    settings,
    inputs=("retrieve", "pattern"),
    # 5: input-format wording check, the yes/no "no" line; 4: input checks, balance targets;
    # 3: tops up to N; 2: structured inputs as text
    version=5,
    summary="N samples from passages (Fig. 6)",
    models=("instructor",),
    prompts=("generate",),
)
