"""Extract the final answer of a completion, per answer kind, leniently or strictly.

Lenient extraction (`extract`) tries the kind's required marker first, then the other markers,
then "the answer is ...", then a kind-specific fallback (the last number, the last line ...).
Strict extraction (`extract(..., strict=True)`, `follows_format`) reads only the required marker:
`####` then a number at the end (`number`), `\\boxed{}` (`math`), `<answer>...</answer>` (the
other kinds); `fmt=` picks another marker. Only the completion is read, never the prompt.

Cut-off completions (`truncated=True`: the backend stopped at the token limit, finish reason
`length`), one policy for every stage that judges (votes, probe, score, reward, evaluation):
such a completion counts only through a final-answer marker it closed before the cut (a
`#### N` line that a line break ends, a complete `\\boxed{...}`, `<answer>...</answer>`), never
through the fallbacks ("the answer is", the last number, the last line), which would read an
intermediate result of unfinished reasoning. It is never strictly correct: the strict format
needs the answer to end the completion, and a cut-off completion's end is the cut.
"""

from __future__ import annotations

import re

from synthrl.answers import choices, markers, numbers
from synthrl.answers.options import AMBIGUOUS, Kind, Opts, resolve

_DEFAULT_FORMAT: dict[str, str] = {"number": "####", "math": "boxed"}
_FALLBACK_ORDER: dict[str, tuple[str, ...]] = {
    "number": ("####", "boxed", "answer_tag"),
    "math": ("boxed", "answer_tag", "####"),
}
_OTHER_ORDER = ("answer_tag", "boxed", "####")
_LATEX_SUBS = (
    (re.compile(r"\\[dt]?frac\s*\{\s*([-−]?[0-9.,]+)\s*\}\s*\{\s*([0-9.,]+)\s*\}"), r"\1/\2"),
    (re.compile(r"\\[dt]?frac\s*([0-9])\s*([0-9])"), r"\1/\2"),
    (re.compile(r"\\(?:text|textbf|mathrm|mbox|mathbf|textit)\s*\{([^{}]*)\}"), r" \1 "),
    (re.compile(r"\^\s*\{?\\circ\}?|\\(?:left|right|displaystyle)\b"), ""),
    (re.compile(r"\\[!,;: ]|\{,\}"), lambda m: "," if m.group(0) == "{,}" else ""),
)
_STRICT_REST_RE = re.compile(r"[*_\s]*(?:%|[A-Za-z][A-Za-z .%/$€£'’-]{0,40})?[*_\s.!]*")


def required_format(kind: Kind, fmt: str | None = None) -> str:
    """The marker strict extraction reads for `kind`: `####`, `boxed` or `answer_tag`."""
    return fmt or _DEFAULT_FORMAT.get(kind, "answer_tag")


def format_answer(answer: str, kind: Kind, fmt: str | None = None) -> str:
    """`answer` written in the required format of `kind` (what `follows_format` accepts):
    `#### 18`, `\\boxed{18}`, `<answer>B</answer>`."""
    marker = required_format(kind, fmt)
    if marker == "####":
        return f"#### {answer}"
    if marker == "boxed":
        return f"\\boxed{{{answer}}}"
    return f"<answer>{answer}</answer>"


def delatex(span: str) -> str:
    """Light LaTeX-to-plain rewriting for number reading: `\\frac{1}{2}` -> `1/2`, `10{,}000`."""
    if "\\" not in span and "{" not in span:
        return span
    for pattern, repl in _LATEX_SUBS:
        span = pattern.sub(repl, span)
    return span.replace("\\$", "$").replace("\\%", "%")


def _number_in_span(span: str) -> str | None:
    """The number a short span states: after its last `=`, the first number."""
    span = delatex(span[:300])
    if "=" in span:
        span = span.rsplit("=", 1)[1]
    value = numbers.first_number(span)
    return None if value is None else numbers.canonical(value)


def _math_in_span(span: str, whole: bool) -> str | None:
    span = span if whole else markers.first_math_segment(span)
    text = markers.strip_math_delims(span)
    return text or None


def parse_span(kind: Kind, span: str, opts: Opts, whole: bool = True) -> str | None:
    """Read an answer of `kind` from a marker's content (`whole`) or a free-text span."""
    if kind == "number":
        return _number_in_span(span)
    if kind == "math":
        return _math_in_span(span, whole)
    if kind == "choice":
        return choices.choice_in_span(span, opts, whole)
    if kind == "yes_no":
        return choices.yes_no_in_span(span)
    if kind == "label":
        return choices.label_in_span(span, opts, whole)
    text = markers.strip_math_delims(span) if whole else span.strip().rstrip(".").strip()
    return text or None


def _strict_hashes(completion: str, kind: Kind, opts: Opts) -> str | None:
    """The answer after the last `####`, only if it ends the completion."""
    tail = markers.hashes_tail(completion)
    if tail is None:
        return None
    tail = tail.strip()
    if not tail or "\n" in tail or len(tail) > 80:
        return None
    if kind != "number":
        return parse_span(kind, tail, opts)
    tail = delatex(tail)
    match = numbers.NUMBER_RE.search(tail)
    if match is None or match.start() > 4 or not _STRICT_REST_RE.fullmatch(tail, match.end()):
        return None
    return numbers.canonical(numbers.value_of_match(match))


def _from_marker(
    completion: str, kind: Kind, fmt: str, opts: Opts, strict: bool, cut: bool = False
) -> str | None:
    """The answer in marker `fmt`; `cut`: only a marker closed before the end counts."""
    if fmt == "####":
        if strict:
            return _strict_hashes(completion, kind, opts)
        tail = markers.hashes_tail(completion)
        if tail is None:
            return None
        stripped = tail.lstrip()
        if cut and "\n" not in stripped.rstrip(" \t"):
            return None  # the answer line runs into the cut: its number may be cut short
        line = stripped[: markers.SPAN_CHARS].split("\n", 1)[0]
        return parse_span(kind, line, opts, whole=False)
    if fmt == "boxed":
        content = markers.last_boxed(completion)
    else:
        content = markers.last_tag(completion, closed=strict or cut)
    return None if content is None else parse_span(kind, content, opts)


def _fallback(completion: str, kind: Kind, opts: Opts) -> str | None:
    """The last resort of lenient extraction, per kind."""
    if kind in ("number", "math"):
        tail = delatex(completion[-2000:])
        value = numbers.last_number(tail)
        return None if value is None else numbers.canonical(value)
    if kind == "choice":
        return choices.choice_fallback(completion, opts)
    if kind == "yes_no":
        return choices.yes_no_fallback(completion)
    if kind == "label":
        return choices.label_fallback(completion, opts)
    line = markers.last_line(completion)
    return None if line is None else parse_span(kind, line, opts)


def _extract(completion: str, kind: Kind, opts: Opts) -> str | None:
    fmt = opts.get("fmt")
    cut = bool(opts.get("truncated"))
    if opts.get("strict"):
        if cut:
            return None
        found = _from_marker(completion, kind, required_format(kind, fmt), opts, strict=True)
        return None if found is AMBIGUOUS else found
    order = _FALLBACK_ORDER.get(kind, _OTHER_ORDER)
    if fmt:
        order = (fmt, *(m for m in order if m != fmt))
    for marker in order:
        found = _from_marker(completion, kind, marker, opts, strict=False, cut=cut)
        if found is not None:
            return None if found is AMBIGUOUS else found
    if cut:
        return None
    span = markers.answer_is_span(completion)
    if span is not None:
        found = parse_span(kind, span, opts, whole=False)
        if found is not None:
            return None if found is AMBIGUOUS else found
    found = _fallback(completion, kind, opts)
    return None if found is AMBIGUOUS else found


def extract(completion: str, kind: Kind, **opts: object) -> str | None:
    """The final answer of `completion` as a canonical string, or None if there is none.

    Canonical forms: `number` -> `1000`, `-3`, `0.5`, `1/3`; `math` -> the LaTeX of the answer;
    `choice` -> the letter; `yes_no` -> `yes` / `no`; `label` -> the label as given in `labels`;
    `text` -> the answer text. Options: `strict`, `fmt`, `letters`, `options`, `labels`,
    `synonyms` (see `synthrl.answers.options`).
    """
    return _extract(completion, kind, resolve(kind, opts))


def follows_format(completion: str, kind: Kind, **opts: object) -> bool:
    """True only when the required marker holds a readable answer (see `required_format`)."""
    resolved = resolve(kind, opts)
    resolved["strict"] = True
    return _extract(completion, kind, resolved) is not None
