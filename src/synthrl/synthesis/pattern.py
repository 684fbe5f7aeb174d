"""The sample pattern P (paper 4.1, eq. 4) as the `pattern` stage writes it and `generate` reads
it: `pattern/pattern.json` ({pattern, demos, reply}); `pattern` is null when the task has no
demos. `pattern_text` reads P from the instructor's reply, free text or the structured
`{"pattern": ...}` (`reply_schemas.PATTERN`)."""

from __future__ import annotations

import json
import re

from synthrl.artifacts import RunDir
from synthrl.synthesis.jsonparse import parse_json_reply

PATTERN_FILE = "pattern.json"
_STRUCTURED = re.compile(r'\s*\{\s*"pattern"\s*:\s*"')


def pattern_text(reply: str) -> str:
    """The pattern a reply states: the `pattern` string of a reply that is the JSON object
    `{"pattern": ...}` (a reply cut at its token limit keeps the part written), else the reply's
    text as it is."""
    opened = _STRUCTURED.match(reply)
    if opened is None:
        return reply.strip()
    try:
        value = parse_json_reply(reply, dict).get("pattern")
    except ValueError:
        value = None
    if isinstance(value, str):
        return value.strip()
    return _partial_string(reply[opened.end() :]).strip()


def _partial_string(body: str) -> str:
    """The text of a JSON string literal whose closing quote may be missing (cut off)."""
    end, pos = len(body), 0
    while pos < len(body):
        if body[pos] == "\\":
            pos += 2
        elif body[pos] == '"':
            end = pos
            break
        else:
            pos += 1
    literal = body[:end]
    if (len(literal) - len(literal.rstrip("\\"))) % 2:  # a dangling backslash: cut mid-escape
        literal = literal[:-1]
    try:
        return json.loads(f'"{literal}"', strict=False)
    except json.JSONDecodeError:  # a cut \u escape
        return literal


def read_pattern(run: RunDir) -> str | None:
    """The pattern P of a run whose `pattern` stage finished, or None when there is none."""
    path = run.stage_dir("pattern") / PATTERN_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("pattern") or None
