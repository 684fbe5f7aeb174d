"""select: rank by score and keep the M lowest (paper 4.3, SelectTop); the Table 4 ablations
`easy`, `hard` and `all` are options. Records why each sample was or was not selected, and says
plainly when no selected sample was ever solved (GRPO would then learn nothing).

Writes `select/selected.jsonl` (the training set: the synthetic sample + its score) and
`select/ranking.jsonl` ({id, rank, score, pass_rate, selected, reason}).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.scoring import NEVER_SOLVED, select_top
from synthrl.task import Task


def run(ctx: StageContext) -> StageOutput:
    cfg = ctx.config.select
    samples = {s["id"]: s for s in ctx.run.rows("adapt", "samples.jsonl")}
    scores = ctx.run.rows("score", "scores.jsonl")
    ranked = select_top(
        [(r["id"], r["correct"], r["attempts"]) for r in scores],
        cfg.m,
        cfg.strategy,
        seed=ctx.config.llm.seed,
    )
    by_id = {r["id"]: r for r in scores}
    write_jsonl(ctx.out_dir / "ranking.jsonl", [asdict(r) for r in ranked])
    chosen = [
        {
            **samples[r.id],
            "score": r.score,
            "pass_rate": r.pass_rate,
            "attempts": by_id[r.id]["attempts"],
        }
        for r in ranked
        if r.selected
    ]
    write_jsonl(ctx.out_dir / "selected.jsonl", chosen)
    notes = []
    if len(scores) < cfg.m and cfg.strategy != "all":
        notes.append(f"only {len(scores)} samples for M={cfg.m}: all are selected")
    if chosen and all(c["pass_rate"] == 0 for c in chosen):
        notes.append(NEVER_SOLVED)
    solved = sum(c["pass_rate"] > 0 for c in chosen)
    return StageOutput({"selected": len(chosen), "ever_solved": solved}, notes=notes)


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    return {"select": config.select.model_dump(), "seed": config.llm.seed}


STAGE = Stage("select", run, settings, inputs=("adapt", "score"), summary="M lowest scores")
