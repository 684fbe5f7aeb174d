"""Answer kinds and their options: validation, normalisation, and parsing from CLI strings.

Options (all keyword arguments of `extract`, `judge`, `majority_vote`, ...):

- `strict` (bool): read only the required format marker (see `extract.required_format`).
- `truncated` (bool): the completion was cut off at its token limit (finish reason `length`);
  see "Cut-off completions" in `synthrl.answers.extract`.
- `fmt` (`####` | `boxed` | `answer_tag`): override the required marker of the kind.
- `letters` (str, default `ABCD`): the option letters of a `choice` question.
- `options` (dict letter -> text): option texts, so that an answer written as text maps back.
- `labels` (list of str; required for `label`): the label set, e.g. entailment/neutral/...
- `synonyms` (dict label -> list of str): extra spellings of each label.
- `rel_tol` (float, default 0): relative tolerance for `number` (exact rationals when 0); a
  task's `answer: {kind: number, tolerance: 0.001}`.
- `decimals` (int): `number` answers are judged to this many decimal places: right when within
  half a unit of the last place of the gold (0.005 for 2), compared exactly; a task's
  `answer: {kind: number, decimals: 2}`.
- `timeout` (float seconds, default 5): per-check limit for math-verify (`math`).
- `use_pool` (bool, default True): run math-verify in the process pool (False: in-process).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args

Kind = Literal["number", "math", "choice", "yes_no", "label", "text"]
KINDS: tuple[str, ...] = get_args(Kind)
Opts = dict[str, Any]

AMBIGUOUS = "\x00ambiguous"
"""Returned by span readers when a span names two answers ("B or C"): extraction stops there."""

_COMMON = {"strict", "fmt", "timeout", "use_pool", "truncated"}
ALLOWED: dict[str, frozenset[str]] = {
    "number": frozenset(_COMMON | {"rel_tol", "decimals"}),
    "math": frozenset(_COMMON),
    "choice": frozenset(_COMMON | {"letters", "options"}),
    "yes_no": frozenset(_COMMON),
    "label": frozenset(_COMMON | {"labels", "synonyms"}),
    "text": frozenset(_COMMON),
}
_FORMATS = ("####", "boxed", "answer_tag")


_OPTION_LINE = re.compile(r"^\s*\(?([A-Z])[).:]\s+(.+?)\s*$", re.MULTILINE)


def option_matches(text: str, letters: str) -> list[re.Match[str]]:
    """The lettered option lines of `text` ("A. ...", "(B) ...") whose letter is in `letters`,
    in order: group 1 the letter, group 2 the option's text."""
    return [m for m in _OPTION_LINE.finditer(text) if m.group(1) in letters]


def checker_options(
    kind: str,
    declared: Mapping[str, Any],
    question: str = "",
    choices: Mapping[str, str] | None = None,
) -> Opts:
    """The checker's options for one question, the one place they are put together: the task's
    `declared` options (letters, labels, synonyms), plus for `choice` the option texts, so that
    an answer written as the option's text maps back to its letter. `choices` (letter -> text,
    as benchmark rows give them) set both the options and the letters; without them the
    options are read from lettered lines of the question ("A. ...", "(B) ...")."""
    opts = dict(declared)
    if kind != "choice":
        return opts
    if choices:
        opts["options"] = {str(k): str(v) for k, v in choices.items()}
        opts["letters"] = "".join(str(k) for k in choices)
        return opts
    letters = _letters(opts.get("letters") or "ABCD")
    found = {m.group(1): m.group(2) for m in option_matches(question, letters)}
    if found:
        opts["options"] = found
    return opts


class AnswerOptionError(ValueError):
    """An unknown kind, an unknown option, or an option value of the wrong shape."""


def _letters(value: Any) -> str:
    letters = "".join(str(x) for x in value) if not isinstance(value, str) else value
    letters = letters.replace(",", "").replace(" ", "").upper()
    if not letters or not letters.isalpha() or len(set(letters)) != len(letters):
        raise AnswerOptionError(f"letters must be distinct letters such as 'ABCD', got {value!r}")
    return letters


def _pairs(value: Any, name: str) -> tuple[tuple[str, Any], ...]:
    if isinstance(value, Mapping):
        return tuple((str(k), v) for k, v in value.items() if v is not None)
    if isinstance(value, Iterable) and not isinstance(value, str):
        return tuple((str(k), v) for k, v in value)
    raise AnswerOptionError(f"{name} must be a mapping, got {type(value).__name__}")


def resolve(kind: str, opts: Mapping[str, Any]) -> Opts:
    """Validate `opts` for `kind` and return them in hashable, normalised form."""
    allowed = ALLOWED.get(kind)
    if allowed is None:
        raise AnswerOptionError(f"unknown answer kind {kind!r}; expected one of {', '.join(KINDS)}")
    unknown = opts.keys() - allowed
    if unknown:
        raise AnswerOptionError(
            f"unknown option(s) {sorted(unknown)} for kind {kind!r}; allowed: {sorted(allowed)}"
        )
    out: Opts = dict(opts)
    if out.get("fmt") is not None and out["fmt"] not in _FORMATS:
        raise AnswerOptionError(f"fmt must be one of {_FORMATS}, got {out['fmt']!r}")
    _precision(out)
    if kind == "choice":
        out["letters"] = _letters(out.get("letters") or "ABCD")
        if out.get("options") is not None:
            pairs = _pairs(out["options"], "options")
            out["options"] = tuple((k.strip().upper(), str(v)) for k, v in pairs)
    if kind == "label":
        labels = out.get("labels")
        if not labels or isinstance(labels, str | bytes):
            raise AnswerOptionError(
                "kind 'label' needs labels=[...], e.g. ['entailment', 'neutral', 'contradiction']"
            )
        out["labels"] = tuple(str(x) for x in labels)
        if out.get("synonyms") is not None:
            pairs = _pairs(out["synonyms"], "synonyms")
            out["synonyms"] = tuple((k, tuple(str(s) for s in v)) for k, v in pairs)
    return out


def _precision(opts: Opts) -> None:
    """`rel_tol` a number in [0, 1), `decimals` a whole number in [0, 12] (None: unset)."""
    rel_tol, decimals = opts.get("rel_tol"), opts.get("decimals")
    number = isinstance(rel_tol, int | float) and not isinstance(rel_tol, bool)
    if rel_tol is not None and not (number and 0 <= rel_tol < 1):
        raise AnswerOptionError(f"rel_tol must be a number in [0, 1), got {rel_tol!r}")
    whole = isinstance(decimals, int) and not isinstance(decimals, bool)
    if decimals is not None and not (whole and 0 <= decimals <= 12):
        raise AnswerOptionError(f"decimals must be a whole number 0-12, got {decimals!r}")


def _cli_value(key: str, raw: str) -> Any:
    """One CLI option value: JSON if it parses, comma lists for `labels`, else the string."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    if key == "labels" and isinstance(value, str):
        return [x.strip() for x in value.split(",") if x.strip()]
    if key in ("strict", "use_pool") and isinstance(value, str):
        return value.lower() in ("1", "true", "yes", "on")
    if key == "letters" and not isinstance(value, str):
        return str(value)
    return value


def parse_cli_options(kind: str, items: Iterable[str]) -> Opts:
    """Options from `KEY=VALUE` strings (for `synthrl judge --opt KEY=VALUE ...`), validated.

    Values are JSON when they parse (`options={"A": "...", "B": "..."}`, `strict=true`),
    comma-separated lists for `labels` (`labels=entailment,neutral,contradiction`), else strings.
    """
    opts: Opts = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise AnswerOptionError(f"expected KEY=VALUE, got {item!r}")
        opts[key.strip()] = _cli_value(key.strip(), raw.strip())
    resolve(kind, opts)
    return opts
