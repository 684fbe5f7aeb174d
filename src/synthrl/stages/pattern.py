"""pattern: with demos, the instructor summarises the generalised sample pattern P (paper 4.1,
eq. 4, Table 1). Without demos, or with `pattern.enabled: false` (Table 4's "w/o sample pattern"
ablation), the stage writes an empty pattern and makes no call. The paragraph is asked for as
`{"pattern": ...}` (`reply_schemas.PATTERN`, where the backend can constrain it: `llm.structured`)
and read with `pattern_text`, which takes free text as it is.

Writes `pattern/pattern.json` ({pattern, demos, reply}).
"""

from __future__ import annotations

from typing import Any

from synthrl.artifacts import write_json
from synthrl.config import RunConfig
from synthrl.llm.base import Request
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.prompts import pattern_messages
from synthrl.synthesis.pattern import PATTERN_FILE, pattern_text
from synthrl.synthesis.reply_schemas import PATTERN
from synthrl.task import Task


def run(ctx: StageContext) -> StageOutput:
    if not ctx.task.demos:
        write_json(ctx.out_dir / PATTERN_FILE, {"pattern": None, "demos": 0, "reply": None})
        return StageOutput({"pattern": 0}, notes=["no demos: no pattern (paper eq. 3)"])
    if not ctx.config.pattern.enabled:
        write_json(
            ctx.out_dir / PATTERN_FILE,
            {"pattern": None, "demos": len(ctx.task.demos), "reply": None},
        )
        return StageOutput({"pattern": 0}, notes=["pattern disabled (pattern.enabled=false)"])
    cfg = ctx.config.generate
    request = Request.chat(
        pattern_messages(ctx.task),
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        seed=ctx.config.llm.seed,
        schema=PATTERN,
    )
    reply = ctx.generate("instructor", [request], desc="pattern")[0].texts[0].strip()
    pattern = pattern_text(reply)
    write_json(
        ctx.out_dir / PATTERN_FILE,
        {"pattern": pattern, "demos": len(ctx.task.demos), "reply": reply},
    )
    return StageOutput({"pattern": 1 if pattern else 0})


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    out: dict[str, Any] = {
        "instructor": config.models.instructor,
        "demos": [d.model_dump() for d in task.demos],
        "description": task.description,
        "temperature": config.generate.temperature,
        "max_tokens": config.generate.max_tokens,
        "seed": config.llm.seed,
    }
    if not config.pattern.enabled:  # only then: runs from before the switch keep their prints
        out["pattern"] = {"enabled": False}
    elif task.demos and config.llm.structured:  # likewise, and only when a call is made
        out["structured"] = True
    return out


STAGE = Stage(
    "pattern",
    run,
    settings,
    summary="sample pattern P from demos (Table 1)",
    models=("instructor",),
    prompts=("pattern",),
)
