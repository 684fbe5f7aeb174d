"""keywords: the instructor derives domain keywords from the task description and demos
(paper 4.1, eq. 2, Figure 5; the prompt is `prompts.KEYWORDS`, ours: the paper's Figure 5 text
is not in our copy). Keywords given in the task file are kept first.

The reply is asked for as a JSON list of strings (`reply_schemas.keywords_schema`, where the
backend can constrain it: `llm.structured`) and parsed tolerantly either way.

Writes `keywords/keywords.jsonl` ({keyword, source}) and `keywords/replies.jsonl` (raw replies).
Keywords serve retrieval only: with `retrieve.enabled: false` both files are empty and no call is
made.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.llm.base import Request, Result
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.prompts import keywords_messages
from synthrl.synthesis.jsonparse import parse_json_reply
from synthrl.synthesis.reply_schemas import keywords_schema
from synthrl.synthesis.retry import ask_parsed
from synthrl.task import Task


def parse_keywords(reply: str) -> list[str]:
    """Keywords from a reply: a JSON list, else one per line or comma-separated. At most the
    first `MAX_CANDIDATES` items are read (a stage keeps a few dozen)."""
    try:
        items = parse_json_reply(reply, list)
    except ValueError:
        items = [p for line in reply.splitlines() for p in line.split(",")]
    keywords = []
    for item in items[:MAX_CANDIDATES]:
        word = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", str(item)).strip().strip("\"'`").strip()
        if len(word) <= 60 and len(word.split()) <= 6 and _KEYWORD.fullmatch(word):
            keywords.append(word)
    return keywords


_KEYWORD = re.compile(r"[^\W_][\w \-'&/().+]*")
MAX_CANDIDATES = 1000


def _parse(result: Result) -> tuple[list[str] | None, str]:
    found = parse_keywords(result.texts[0])
    return (found, "ok") if found else (None, "unparseable_reply")


def unique(words: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for word in words:
        key = word.casefold()
        if key not in seen:
            seen.add(key)
            out.append(word)
    return out


def run(ctx: StageContext) -> StageOutput:
    if not ctx.config.retrieve.enabled:
        write_jsonl(ctx.out_dir / "replies.jsonl", [])
        write_jsonl(ctx.out_dir / "keywords.jsonl", [])
        return StageOutput({"keywords": 0}, notes=["retrieval disabled: no keywords needed"])
    cfg = ctx.config.keywords
    retries = ctx.config.generate.parse_retries
    request = Request.chat(
        keywords_messages(ctx.task, cfg.count),
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        seed=ctx.config.llm.seed,
        schema=keywords_schema(cfg.count),
    )
    asked = ask_parsed(
        partial(ctx.generate, "instructor"), [request], _parse, retries, desc="keywords"
    )
    found = asked.values.get(0, [])
    replies = [
        {"attempt": r.attempt, "reply": r.text, "keywords": len(parse_keywords(r.text))}
        for r in asked.replies
    ]
    write_jsonl(ctx.out_dir / "replies.jsonl", replies)
    rows = [{"keyword": k, "source": "task"} for k in unique(ctx.task.keywords)]
    given = {r["keyword"].casefold() for r in rows}
    rows += [
        {"keyword": k, "source": "instructor"}
        for k in unique(found)[: cfg.count]
        if k.casefold() not in given
    ]
    if not rows:
        raise SynthRLError(
            f"the instructor gave no usable keywords in {retries + 1} tries (replies in "
            f"{ctx.out_dir / 'replies.jsonl'}); add `keywords:` to the task file."
        )
    write_jsonl(ctx.out_dir / "keywords.jsonl", rows)
    drops = {"unparseable_reply": sum(1 for r in replies if not r["keywords"])}
    return StageOutput(counts={"keywords": len(rows)}, drops={k: v for k, v in drops.items() if v})


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    if not config.retrieve.enabled:  # no call: nothing else shapes the (empty) output
        return {"retrieve": {"enabled": False}}
    out = {
        "instructor": config.models.instructor,
        "keywords": config.keywords.model_dump(),
        "seed": config.llm.seed,
        "retries": config.generate.parse_retries,
        "description": task.description,
        "demos": [d.model_dump() for d in task.demos],
        "given": task.keywords,
    }
    if config.llm.structured:  # only then: runs from before structured replies keep their prints
        out["structured"] = True
    return out


STAGE = Stage(
    "keywords",
    run,
    settings,
    summary="instructor derives domain keywords (Fig. 5)",
    models=("instructor",),
    prompts=("keywords",),
)
