"""keywords: the instructor derives domain keywords from the task description and demos
(paper 4.1, eq. 2, Figure 5). Keywords given in the task file are kept first.

Writes `keywords/keywords.jsonl` ({keyword, source}) and `keywords/replies.jsonl` (raw replies).
"""

from __future__ import annotations

import re
from typing import Any

from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.jsonparse import parse_json_reply
from synthrl.llm.base import Request
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.task import Task

PROMPT = (
    "You are an expert in the domain of the task below. List {count} domain-specific keywords "
    "that name the subject matter of its examples: the topics, concepts, entities and real-world "
    "settings that questions of this task are about, not words for the task's procedure (such "
    "as 'solve', 'read' or 'step by step'). They will be used to search an encyclopedia for "
    "passages to write new examples from, so prefer concrete nouns and short noun phrases (one "
    "to three words), each distinct.\n\n"
    "Task description: {description}\n{demos}\n"
    'Output only a JSON list of strings, e.g. ["keyword one", "keyword two"].'
)


def build_prompt(task: Task, count: int) -> str:
    demos = ""
    if task.demos:
        shown = "\n".join(f"Input: {d.input}\nOutput: {d.output}" for d in task.demos[:3])
        demos = f"\nExamples of the task:\n{shown}\n"
    return PROMPT.format(count=count, description=task.description.strip(), demos=demos)


def parse_keywords(reply: str) -> list[str]:
    """Keywords from a reply: a JSON list, else one per line or comma-separated."""
    try:
        items = parse_json_reply(reply, list)
    except ValueError:
        items = [p for line in reply.splitlines() for p in line.split(",")]
    keywords = []
    for item in items:
        word = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", str(item)).strip().strip("\"'`").strip()
        if len(word) <= 60 and len(word.split()) <= 6 and _KEYWORD.fullmatch(word):
            keywords.append(word)
    return keywords


_KEYWORD = re.compile(r"[^\W_][\w \-'&/().+]*")


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
    cfg = ctx.config.keywords
    messages = [{"role": "user", "content": build_prompt(ctx.task, cfg.count)}]
    replies: list[dict[str, Any]] = []
    found: list[str] = []
    attempts = ctx.config.generate.parse_retries + 1
    for attempt in range(attempts):
        request = Request.chat(
            messages,
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
            seed=ctx.config.llm.seed,
            first_sample=attempt,
        )
        reply = ctx.generate("instructor", [request], desc="keywords")[0].texts[0]
        found = parse_keywords(reply)
        replies.append({"attempt": attempt, "reply": reply, "keywords": len(found)})
        if found:
            break
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
            f"the instructor gave no usable keywords in {attempts} tries (replies in "
            f"{ctx.out_dir / 'replies.jsonl'}); add `keywords:` to the task file."
        )
    write_jsonl(ctx.out_dir / "keywords.jsonl", rows)
    drops = {"unparseable_reply": sum(1 for r in replies if not r["keywords"])}
    return StageOutput(counts={"keywords": len(rows)}, drops={k: v for k, v in drops.items() if v})


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    return {
        "instructor": config.models.instructor,
        "keywords": config.keywords.model_dump(),
        "seed": config.llm.seed,
        "retries": config.generate.parse_retries,
        "description": task.description,
        "demos": [d.model_dump() for d in task.demos],
        "given": task.keywords,
    }


STAGE = Stage("keywords", run, settings, summary="instructor derives domain keywords (Fig. 5)")
