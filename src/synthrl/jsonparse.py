"""Tolerant parsing of JSON that models write: code fences, prose around it, single quotes,
trailing commas, Python literals (read with `ast.literal_eval`, never `eval`)."""

from __future__ import annotations

import ast
import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json|python|JSON)?\s*(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def parse_json_reply(text: str, expect: type = object) -> Any:
    """The first JSON value of type `expect` found in `text`; raise ValueError if none."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for candidate in candidates:
        for chunk in _balanced_chunks(candidate):
            value = _load(chunk)
            if value is not None and isinstance(value, expect):
                return value
    raise ValueError("no JSON value found in the reply")


def _load(chunk: str) -> Any:
    for attempt in (chunk, _TRAILING_COMMA.sub(r"\1", chunk)):
        try:
            return json.loads(attempt)
        except json.JSONDecodeError:
            pass
        try:
            return ast.literal_eval(attempt)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            pass
    return None


def _balanced_chunks(text: str, limit: int = 20) -> list[str]:
    """Substrings that start at '{' or '[' and end at their matching bracket (quotes respected)."""
    chunks: list[str] = []
    start = 0
    while len(chunks) < limit:
        positions = [p for p in (text.find("{", start), text.find("[", start)) if p >= 0]
        if not positions:
            break
        begin = min(positions)
        end = _match(text, begin)
        if end is None:
            start = begin + 1
            continue
        chunks.append(text[begin : end + 1])
        start = begin + 1 if not chunks[-1] else end + 1
    return chunks


def _match(text: str, begin: int) -> int | None:
    pairs = {"{": "}", "[": "]"}
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    for pos in range(begin, len(text)):
        ch = text[pos]
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch in pairs:
            stack.append(pairs[ch])
        elif ch in "}]":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return pos
    return None
