"""`synthrl init`: a starter task file, from a shipped example (`--from gsm8k`) or from a
one-line description that the instructor expands into the paper's three instructions
(description, input format, output format) and an answer kind, shown for the user to edit.

    text = from_example("demo", "gsm8k")
    text = from_description("demo", "yes/no questions about consumer contracts", llm)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from synthrl.errors import SynthRLError
from synthrl.llm.base import Request
from synthrl.llm.client import LLM
from synthrl.shipped import example_task
from synthrl.task import Task, load_task

KINDS = ("number", "math", "choice", "yes_no", "label", "text")
_PATH_LINE = re.compile(r"^([ \t]*(?:fallback_path|path):[ \t]*)(\S+)[ \t]*$", re.MULTILINE)
_NAME_LINE = re.compile(r"^name:.*$", re.MULTILINE)

EXPAND = """\
A user wants to train a language model on a task, described in one line:

{description}

Write the task definition as JSON with these keys:
- "description": two or three sentences that tell a model what the task is and how to solve it;
- "input_format": what one input looks like (or "None" when it is a plain question);
- "output_format": how the answer must be written, ending with where the final answer goes \
(e.g. "Let's think step by step and output the final answer after ####.");
- "answer_kind": one of number, math, choice, yes_no, label, text;
- "labels": the list of labels, only when answer_kind is label.
Reply with the JSON object only."""


def from_example(name: str, example: str) -> str:
    """The shipped example task file `example` renamed to `name`, its data paths (relative to
    the shipped file) made absolute so that the copy finds them anywhere."""
    source = example_task(example)
    text = source.read_text(encoding="utf-8")
    text = _NAME_LINE.sub(f"name: {name}", text, count=1)

    def absolute(match: re.Match[str]) -> str:
        value = match.group(2).strip("'\"")
        path = Path(value)
        if path.is_absolute() or value.startswith("hf:") or not (source.parent / path).exists():
            return match.group(0)
        return f"{match.group(1)}{(source.parent / path).resolve()}"

    return _PATH_LINE.sub(absolute, text)


def from_description(name: str, description: str, instructor: LLM, max_tokens: int = 512) -> str:
    """A task file whose instructions the instructor wrote from a one-line description."""
    request = Request.chat(
        [{"role": "user", "content": EXPAND.format(description=description.strip())}],
        temperature=0.0,
        max_tokens=max_tokens,
    )
    reply = instructor.generate([request], stage="init", desc="init: expanding")[0].texts[0]
    fields = parse_expansion(reply)
    answer: dict[str, Any] = {"kind": fields["answer_kind"]}
    if fields["answer_kind"] == "label":
        answer["labels"] = fields["labels"]
    data = {
        "name": name,
        "description": fields["description"],
        "input_format": fields["input_format"],
        "output_format": fields["output_format"],
        "answer": answer,
    }
    header = (
        f"# Written by `synthrl init` from: {description.strip()}\n"
        "# The instructor drafted these instructions: read and edit them before a run.\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=96)


def parse_expansion(reply: str) -> dict[str, Any]:
    """The instructor's JSON reply, checked; SynthRLError saying what is missing."""
    from synthrl.synthesis.jsonparse import parse_json_reply

    try:
        value = parse_json_reply(reply, dict)
    except ValueError:
        raise SynthRLError(
            "the instructor's reply held no JSON task definition; try again with another "
            f"--instructor, or start from an example (--from gsm8k). Reply: {reply[:200]!r}"
        ) from None
    missing = [k for k in ("description", "output_format", "answer_kind") if not value.get(k)]
    kind = str(value.get("answer_kind", "")).strip().lower()
    if missing or kind not in KINDS:
        raise SynthRLError(
            f"the instructor's task definition lacks {missing or ['a known answer_kind']} "
            f"(answer kinds: {', '.join(KINDS)}); try again or start from --from gsm8k."
        )
    labels = value.get("labels") or []
    if kind == "label" and (not isinstance(labels, list) or len(labels) < 2):
        kind = "text"  # no usable label set: free text, which the user can edit
    return {
        "description": str(value["description"]).strip(),
        "input_format": str(value.get("input_format") or "None").strip(),
        "output_format": str(value["output_format"]).strip(),
        "answer_kind": kind,
        "labels": [str(x) for x in labels] if kind == "label" else [],
    }


def write_starter(path: Path, text: str, force: bool = False) -> Task:
    """Write `text` to `path` (never over an existing file unless `force`) and validate it."""
    if path.exists() and not force:
        raise SynthRLError(f"{path} exists; choose another NAME or --out, or pass --force.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return load_task(path)
