"""Locate answer markers in a completion: `####`, `\\boxed{}`, `<answer>` tags, "the answer is".

Pure string scanning with no regex backtracking risk: everything here is linear in the length of
the completion, so a 100 KB completion costs well under a millisecond per marker.
"""

from __future__ import annotations

import re

FORMATS = ("####", "boxed", "answer_tag")

_BOX_COMMANDS = ("\\boxed", "\\fbox")
_MAX_BOX_TRIES = 16
_OPEN_TAG = re.compile(r"<\s*answer\s*>", re.IGNORECASE)
_CLOSE_TAG = re.compile(r"<\s*/\s*answer\s*>", re.IGNORECASE)
_ANSWER_IS = re.compile(
    r"(?:answer|option|choice)[*_\s]*(?:is|would\s+be|should\s+be|will\s+be|[:=：])[*_\s:]*",
    re.IGNORECASE,
)
SPAN_CHARS = 2000


def _box_at(text: str, pos: int, command: str) -> str | None:
    """The argument of the box command at `pos` (`\\boxed{x}`, `\\boxed x`)."""
    i = pos + len(command)
    if i < len(text) and (text[i].isalpha()):
        return None  # e.g. \boxedx is another command
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return None
    if text[i] == "{":
        content = braced(text, i)
    else:
        end = i
        while end < len(text) and not text[end].isspace() and text[end] not in "$.,;":
            end += 1
        content = text[i:end]
    if content is None or not content.strip():
        return None
    return content.strip()


def braced(text: str, start: int) -> str | None:
    """The content of the `{...}` group opening at `text[start]`, or None if unbalanced.

    Escaped braces (`\\{`, `\\}`) do not count. Each brace is visited once: O(len(text)).
    """
    depth = 0
    opening, closing = text.find("{", start), text.find("}", start)
    while closing >= 0:
        if 0 <= opening < closing:
            if text[opening - 1] != "\\" or opening == start:
                depth += 1
            opening = text.find("{", opening + 1)
        else:
            if text[closing - 1] != "\\":
                depth -= 1
                if depth == 0:
                    return text[start + 1 : closing]
            closing = text.find("}", closing + 1)
    return None


def last_boxed(text: str) -> str | None:
    """Content of the last well-formed, non-empty `\\boxed{...}` or `\\fbox{...}`."""
    end = len(text)
    for _ in range(_MAX_BOX_TRIES):
        pos, command = max((text.rfind(c, 0, end), c) for c in _BOX_COMMANDS)
        if pos < 0:
            return None
        content = _box_at(text, pos, command)
        if content is not None:
            return content
        end = pos
    return None


def last_tag(text: str, closed: bool = True) -> str | None:
    """Content of the last `<answer>...</answer>`; with `closed=False` an unclosed tag counts."""
    opens = list(_OPEN_TAG.finditer(text))
    end = len(text)
    for i, match in enumerate(reversed(opens)):
        close = _CLOSE_TAG.search(text, match.end(), end)
        if close:
            return text[match.end() : close.start()].strip() or None
        if i == 0 and not closed:
            return text[match.end() : match.end() + SPAN_CHARS].strip() or None
        end = match.start()
        if i >= 1:
            break
    return None


def hashes_tail(text: str) -> str | None:
    """The text after the last `####`, or None when there is none."""
    pos = text.rfind("####")
    if pos < 0:
        return None
    return text[pos + 4 :].lstrip("#")


def answer_is_span(text: str) -> str | None:
    """The rest of the line after the last "answer is" / "answer:" / "option is" phrase."""
    window_start = max(0, len(text) - 20_000)
    lowered = text[window_start:].lower()
    if "answer" not in lowered and "option" not in lowered and "choice" not in lowered:
        return None
    last = None
    for last in _ANSWER_IS.finditer(text, window_start):  # noqa: B007 - keep the last match
        pass
    if last is None:
        return None
    span = text[last.end() : last.end() + SPAN_CHARS]
    span = span.split("\n", 1)[0].strip()
    return span or None


def last_line(text: str) -> str | None:
    """The last non-empty line, stripped of markdown emphasis and list markers."""
    end = len(text)
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end].strip().strip("*_#>` ").strip()
        if line:
            return line[-SPAN_CHARS:]
        end = start - 1
    return None


def strip_math_delims(span: str) -> str:
    """Drop `$...$`, `\\(...\\)`, `\\[...\\]` wrappers, bold markers and a trailing period."""
    s = span.strip().strip("*").strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(left) and s.endswith(right) and len(s) >= len(left) + len(right):
            s = s[len(left) : len(s) - len(right)].strip()
            break
    return s.rstrip(".").strip()


def first_math_segment(span: str) -> str:
    """From "the answer is $x$ because ...", the `x`; else the span up to its first sentence end."""
    for left, right in (("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        start = span.find(left)
        if start >= 0:
            end = span.find(right, start + len(left))
            if end > start:
                return span[start + len(left) : end].strip()
    return re.split(r"\.\s|,\s+(?:so|because|since|which)\b", span, maxsplit=1)[0]
