"""probe: the base model answers every verified sample once, greedily (tau = 0); the answer
checker marks it solved or unsolved (paper 4.2, Algorithm 1 lines 6-7).

Writes `probe/samples.jsonl` (+ probe_completion, probe_answer, solved).
"""

from __future__ import annotations

from typing import Any

from synthrl.answers import extract, judge
from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.llm.base import Request
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.prompts import solve_messages
from synthrl.task import Task


def run(ctx: StageContext) -> StageOutput:
    samples = ctx.run.rows("verify", "samples.jsonl")
    requests = [
        Request.chat(
            solve_messages(ctx.task, s["input"]),
            temperature=0.0,
            max_tokens=ctx.config.probe.max_tokens,
            seed=ctx.config.llm.seed,
        )
        for s in samples
    ]
    results = ctx.generate("base", requests, desc="probe")
    kind = ctx.task.answer.kind
    rows = []
    for sample, result in zip(samples, results, strict=True):
        text = result.texts[0]
        cut = result.samples[0].finish_reason == "length"
        opts = {**ctx.task.checker_options(sample["input"]), "truncated": cut}
        rows.append(
            {
                **sample,
                "probe_completion": text,
                "probe_truncated": cut,
                "probe_answer": extract(text, kind, **opts),
                "solved": judge(text, sample["label"], kind, **opts),
            }
        )
    write_jsonl(ctx.out_dir / "samples.jsonl", rows)
    solved = sum(r["solved"] for r in rows)
    return StageOutput({"solved": solved, "unsolved": len(rows) - solved})


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    return {
        "base": config.models.base,
        "probe": config.probe.model_dump(),
        "seed": config.llm.seed,
        "task": task.fingerprint(),
    }


STAGE = Stage(
    "probe",
    run,
    settings,
    inputs=("verify",),
    summary="base model, greedy: solved?",
    models=("base",),
    prompts=("solve",),
)
