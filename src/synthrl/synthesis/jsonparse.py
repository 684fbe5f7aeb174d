"""Tolerant parsing of JSON that models write: code fences, prose around it, single quotes,
trailing commas, Python literals (read with `ast.literal_eval`, never `eval`), and LaTeX written
with single backslashes.

LaTeX. Models write `{"input": "Compute \\frac{1}{2} + \\theta"}` with raw backslashes, which
`json.loads` reads as the escapes form feed (`\\f`) and tab (`\\t`); `ast.literal_eval` also
reads bell (`\\a`), vertical tab (`\\v`), `\\x..`, `\\N{..}` and octal escapes. Before decoding,
every string literal of a candidate is re-escaped (`protect_latex`), one backslash at a time, by
this rule:

- `\\\\` is a pair; `\\"`, `\\'`, `\\/` are escapes; so are `\\uXXXX`, and Python's `\\xXX` and
  `\\UXXXXXXXX` (hex digits; `repr` writes `\\xa0`).
- `\\b` or `\\f` followed by a letter is LaTeX (`\\beta`, `\\boxed`, `\\frac`, `\\forall`): no
  model means a backspace or form feed there.
- `\\n`, `\\r`, `\\t` are escapes (newline, carriage return, tab) unless the escape letter and
  the whole run of letters after it form a LaTeX command in `NRT_COMMANDS` (`\\nabla`, `\\neq`,
  `\\right`, `\\rho`, `\\theta`, `\\times`, `\\to`, `\\text`, ...): "step one.\\nThen" and
  "\\nnext" are newlines, `\\nabla` is not. The commands in `AMBIGUOUS_COMMANDS` also read as a
  newline before a letter or a word (`\\ne`, `\\ni`, `\\nu`, `\\neg` as in "\\ne.g.",
  `\\nexists`, ...): they are LaTeX inside inline math (after an odd number of `$`), or in a
  string that is otherwise raw LaTeX and writes no other newline as `\\n`; else newlines.
- Any other backslash (`\\sqrt`, `\\alpha`, `\\vec`, `\\(`, `\\{`, `\\,`, `\\ `, `\\$`) is not a
  JSON escape: it is a literal backslash.

A string with at least one literal (LaTeX) backslash was written raw, so its `\\\\` is LaTeX's
line break and is kept as two backslashes, except before a letter (`\\\\frac` is an escaped
`\\frac`, however the rest of the string was written). A string without one was escaped
properly, and each `\\\\` is one backslash.

Measured: every MATH-500 problem and solution (and 300 GSM8K solutions, prose with newlines)
written into a reply six ways (`json.dumps`, ASCII or not; raw with real newlines or `\\n`;
Python `repr`; raw Python literal) parses back exactly (tests/synthesis/test_jsonparse.py); the
parser without this step got 0 of 500 MATH-500 items back from any raw writing.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json|python|JSON)?\s*(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_HEX = re.compile(r"[0-9a-fA-F]+")
_HEX_ESCAPES = {"u": 4, "x": 2, "U": 8}
_LETTERS = re.compile(r"[A-Za-z]*")
_CONTROL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# LaTeX commands that begin with the JSON escape letters n, r, t (without the backslash).
NRT_COMMANDS = frozenset(
    """
    nabla natural ncong ne nearrow neg neq newline nexists ngeq ngtr ni nleftarrow nleq nless
    nmid noindent nolimits nonumber not notin nparallel nRightarrow nrightarrow nsim nsubseteq
    nsupseteq nu nwarrow
    rangle rbrace rbrack rceil restriction rfloor rho right rightarrow rightharpoonup
    rightleftharpoons rightrightarrows rm rVert rvert
    tag tan tanh tau tbinom text textbf textit textnormal textrm textsf textstyle texttt textup
    tfrac theta therefore thickapprox thicksim thinspace tilde times to top triangle
    triangledown triangleleft trianglelefteq triangleq triangleright trianglerighteq tt
    """.split()  # noqa: SIM905
)
# Of those, the ones that also read as a newline followed by a letter or an English word
# ("\\ni" in "...\\ni \\\\backslash j" is a newline, then the variable i).
AMBIGUOUS_COMMANDS = frozenset(
    ["ne", "neg", "nexists", "ni", "nless", "nmid", "nparallel", "nsim", "nu"]
)


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
    protected = protect_latex(chunk)
    attempts = [protected, _TRAILING_COMMA.sub(r"\1", protected)]
    attempts += [a for a in (chunk, _TRAILING_COMMA.sub(r"\1", chunk)) if a not in attempts]
    for attempt in attempts:
        try:
            return json.loads(attempt, strict=False)  # strict=False: raw newlines in strings
        except (json.JSONDecodeError, RecursionError):  # too deeply nested for the decoder
            pass
        try:
            return ast.literal_eval(attempt)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            pass
    return None


def protect_latex(chunk: str) -> str:
    """`chunk` with every literal backslash inside its string literals doubled, so that JSON and
    Python decoding keep LaTeX (the rule is in the module docstring)."""
    out: list[str] = []
    pos = 0
    while pos < len(chunk):
        ch = chunk[pos]
        if ch not in "\"'":
            out.append(ch)
            pos += 1
            continue
        end = _string_end(chunk, pos)
        if end is None:
            out.append(chunk[pos:])
            break
        out.append(ch + _reescape(chunk[pos + 1 : end], ch) + ch)
        pos = end + 1
    return "".join(out)


def _string_end(text: str, begin: int) -> int | None:
    """Index of the quote that closes the string literal opened at `begin`."""
    quote = text[begin]
    pos = begin + 1
    while pos < len(text):
        if text[pos] == "\\":
            pos += 2
        elif text[pos] == quote:
            return pos
        else:
            pos += 1
    return None


def _reescape(body: str, quote: str) -> str:
    """One string literal's body, re-escaped: real escapes kept, literal backslashes doubled,
    raw control characters escaped; `\\/` and an escaped quote of the other kind become the bare
    character (valid in JSON and Python alike)."""
    tokens: list[tuple[str, str]] = []  # (kind, text): char | pair | escape | latex | maybe
    dollars = 0  # unescaped `$` so far: odd inside inline math
    pos = 0
    while pos < len(body):
        if body[pos] != "\\" or pos + 1 == len(body):
            dollars += body[pos] == "$" and not (tokens and tokens[-1][0] == "pair")
            tokens.append(("char", body[pos]))
            pos += 1
        elif body[pos + 1] == "\\":
            tokens.append(("pair", "\\\\"))
            pos += 2
        else:
            kind = _classify(body, pos + 1)
            if kind == "maybe" and dollars % 2:
                kind = "latex"
            tokens.append((kind, body[pos : pos + 2]))
            pos += 2
    raw = any(kind == "latex" for kind, _ in tokens)
    newlines = any(token == ("escape", "\\n") for token in tokens)
    out = []
    for i, (kind, text) in enumerate(tokens):
        if kind == "latex" or (kind == "maybe" and raw and not newlines):
            out.append("\\" + text)
        elif kind in ("escape", "maybe") and text[1] in "\"'/" and text[1] != quote:
            out.append(text[1])
        elif kind == "pair" and raw and not _letter_follows(tokens, i):
            out.append("\\\\\\\\")  # LaTeX's line break `\\`, written raw
        else:
            out.append(_CONTROL.get(text, text))
    return "".join(out)


def _classify(body: str, pos: int) -> str:
    """What the backslash before `body[pos]` starts: `escape` (meant as one), `latex` (a literal
    backslash) or `maybe` (a newline before a word that also spells a LaTeX command)."""
    letter = body[pos]
    if letter in "\"'/":
        return "escape"
    if letter in _HEX_ESCAPES:  # \\u00e9, and Python's \\xa0 and \\U0001f600 (as repr writes)
        digits = _HEX_ESCAPES[letter]
        return "escape" if _HEX.fullmatch(body, pos + 1, pos + 1 + digits) else "latex"
    follows = _LETTERS.match(body, pos + 1).group()
    if letter in "bf":
        return "latex" if follows else "escape"
    if letter in "nrt":
        command = letter + follows
        if command in AMBIGUOUS_COMMANDS:
            return "maybe"
        return "latex" if command in NRT_COMMANDS else "escape"
    return "latex"


def _letter_follows(tokens: list[tuple[str, str]], index: int) -> bool:
    return index + 1 < len(tokens) and tokens[index + 1][1][0].isalpha()


def _balanced_chunks(text: str, limit: int = 20) -> list[str]:
    """Substrings that start at '{' or '[' and end at their matching bracket (quotes respected).

    Each opener that never closes costs a scan to the end of the text, so the scans share a
    budget of a few passes over it: a reply of a million unclosed brackets takes linear time,
    not quadratic (a hostile or broken server can send one)."""
    chunks: list[str] = []
    start, budget = 0, _SCAN_PASSES * len(text) + 10_000
    while len(chunks) < limit and budget > 0:
        positions = [p for p in (text.find("{", start), text.find("[", start)) if p >= 0]
        if not positions:
            break
        begin = min(positions)
        stop = min(len(text), begin + budget)
        end = _match(text, begin, stop)
        budget -= (stop if end is None else end) - begin + 1
        if end is None:
            start = begin + 1
            continue
        chunks.append(text[begin : end + 1])
        start = begin + 1 if not chunks[-1] else end + 1
    return chunks


_SCAN_PASSES = 4


def _match(text: str, begin: int, stop: int) -> int | None:
    pairs = {"{": "}", "[": "]"}
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    for pos in range(begin, stop):
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
