"""adapt: solved samples are rewritten harder, unsolved ones easier (paper 4.2, eq. 5-6, Fig. 7);
the prompt shows each sample with its verified output (the winning vote's solution), not the
generator's; the rewrite is asked for as {input, output} JSON (`reply_schemas.SAMPLE`, where the
backend can constrain it: `llm.structured`). Each rewrite is checked
(`synthrl.synthesis.checks`, plus its MiniLM similarity to its parent:
`quality.min_parent_similarity`), de-duplicated and verified like a generated sample (the same
vote, without verify's `verify.max_label_share` cap).
The synthetic set is initial + harder + easier; each sample records its origin and parent.
In a later round (synthrl.rounds), a sample that already has its rewrite in that direction
(the id `h-ID` or `e-ID` is in the pool) is not rewritten again.

Writes `adapt/samples.jsonl` (the whole synthetic set) and `adapt/dropped.jsonl`.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.llm.base import Request
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.prompts import rewrite_messages
from synthrl.synthesis.filters import quality_filter, quality_settings
from synthrl.synthesis.reply_schemas import SAMPLE
from synthrl.synthesis.retry import ask_parsed
from synthrl.synthesis.samples import parse_result
from synthrl.synthesis.votes import verify_samples
from synthrl.task import Task


def rewrite(ctx: StageContext, initial: list[dict[str, Any]]) -> tuple[list, list]:
    """One rewrite per sample (harder if solved, easier if not): (parsed rewrites, failures)."""
    cfg = ctx.config.adapt
    requests = [
        Request.chat(
            rewrite_messages(sample, harder=sample["solved"]),
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
            seed=ctx.config.llm.seed,
            schema=SAMPLE,
        )
        for sample in initial
    ]
    replies = ask_parsed(
        partial(ctx.generate, "instructor"),
        requests,
        parse_result,
        ctx.config.generate.parse_retries,
        desc="adapt: rewrite",
    )
    rewrites = []
    for i, parsed in sorted(replies.values.items()):
        parent = initial[i]
        rewrites.append(
            {
                "id": rewrite_id(parent),
                **parsed,
                "origin": "harder" if parent["solved"] else "easier",
                "parent": parent["id"],
                "passage_id": parent.get("passage_id"),
                "keyword": parent.get("keyword"),
            }
        )
    failures = [
        {"id": rewrite_id(initial[i]), "reason": r.reason, "reply": r.text}
        for i, r in sorted(replies.failures.items())
    ]
    return rewrites, failures


def rewrite_id(parent: dict[str, Any]) -> str:
    return f"{'h' if parent['solved'] else 'e'}-{parent['id']}"


def run(ctx: StageContext) -> StageOutput:
    initial = ctx.run.rows("probe", "samples.jsonl")
    if not ctx.config.adapt.enabled:
        write_jsonl(ctx.out_dir / "samples.jsonl", initial)
        write_jsonl(ctx.out_dir / "dropped.jsonl", [])
        return StageOutput(
            {"initial": len(initial), "harder": 0, "easier": 0},
            notes=["adaptation disabled (ablation)"],
        )
    # a sample rewritten in that direction in an earlier round (synthrl.rounds) is not again
    ids = {s["id"] for s in initial}
    todo = [s for s in initial if rewrite_id(s) not in ids]
    rewrites, dropped = rewrite(ctx, todo)
    fresh, filtered = quality_filter(rewrites, initial, ctx.config.quality, task=ctx.task)
    verified, unverified = verify_samples(
        partial(ctx.generate, "instructor"),
        ctx.task,
        ctx.config.verify,
        ctx.config.llm.seed,
        fresh,
        desc="adapt: verify",
    )
    dropped += filtered + unverified
    write_jsonl(ctx.out_dir / "samples.jsonl", initial + verified)
    write_jsonl(ctx.out_dir / "dropped.jsonl", dropped)
    origins = Counter(s["origin"] for s in verified)
    counts = {"initial": len(initial), "harder": origins["harder"], "easier": origins["easier"]}
    notes = []
    if len(todo) < len(initial):
        notes.append(f"{len(initial) - len(todo)} samples already had that rewrite: not again")
    return StageOutput(counts, dict(Counter(d["reason"] for d in dropped)), notes)


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    out = {
        "instructor": config.models.instructor,
        "adapt": config.adapt.model_dump(),
        "verify": config.verify.model_dump(exclude={"max_label_share"}),  # verify's alone
        "quality": quality_settings(task, config.quality),
        "retries": config.generate.parse_retries,
        "seed": config.llm.seed,
        "task": task.fingerprint(),
    }
    if config.llm.structured:  # only then: runs from before structured replies keep their prints
        out["structured"] = True
    return out


STAGE = Stage(
    "adapt",
    run,
    settings,
    inputs=("probe",),
    # 5: input-format wording check; 4: content checks, drift from the parent; 3: the prompt
    # shows the verified label
    version=5,
    summary="harder/easier rewrites, verified (Fig. 7)",
    models=("instructor",),
    prompts=("rewrite", "solve"),
)
