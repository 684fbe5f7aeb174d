"""Read discrete answers from text: option letters (`choice`), `yes_no`, and `label` sets.

Span readers get either a marker's whole content (`whole=True`: `<answer>B</answer>`,
`\\boxed{B}`) or the free text after "the answer is" (`whole=False`). A span naming two different
answers ("B or C", "yes or no") is `AMBIGUOUS`, which ends extraction with no answer.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from synthrl.answers import markers
from synthrl.answers.options import AMBIGUOUS, Opts

LETTER_CHARS = 300
_YES_NO = {"yes": "yes", "true": "yes", "no": "no", "false": "no"}
_YES_NO_RE = re.compile(r"\b(yes|no|true|false)\b", re.IGNORECASE)
_NEGATION_RE = re.compile(r"(?:\bnot|\bno|n't)\s+(?:an?\s+)?$", re.IGNORECASE)
BUILTIN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "entailment": ("entailment", "entails", "entail", "entailed", "entailing"),
    "contradiction": ("contradiction", "contradicts", "contradict", "contradictory"),
    "neutral": ("neutral", "neither"),
}


_PUNCTUATION = {i: " " for i in range(0x10000) if unicodedata.category(chr(i)).startswith("P")}


def normalize_text(text: str) -> str:
    """NFKC, case-folded, punctuation to spaces (symbols such as arrows kept), spaces collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_PUNCTUATION)
    return " ".join(text.split())


@lru_cache(maxsize=64)
def _letter_patterns(letters: str) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    cls = f"[{re.escape(letters)}]"
    bare = re.compile(rf"[\s*_`'\"]*[(\[]?\s*({cls})\s*[)\]]?[.:]?[\s*_`'\"]*", re.IGNORECASE)
    start = re.compile(
        rf"[\s*_`'\"]*(?P<pre>(?i:option|choice|answer)\s*)?(?P<open>[(\[])?\s*({cls})"
        rf"(?P<term>\s*[)\]]|[.:,*_`'\"]|\s|$)"
        rf"(?P<rest>(?<=,)\s*[(\[]?{cls}\b|\s*(?:or|and|/|,|&|\+)\s*[(\[]?{cls}\b)?"
    )
    marker = re.compile(rf"(?<![\w(\[])[(\[]?({cls})[)\]]|\b(?i:option|choice)\s+[(\[]?({cls})\b")
    return bare, start, marker


def _strong(match: re.Match[str]) -> bool:
    """A letter written as a letter: `(B`, `B)`, `B.`, `B:`, `option B`, not just `B ...`."""
    return bool(match["pre"] or match["open"] or match["term"].strip() in (")", "]", ".", ":"))


@lru_cache(maxsize=4096)
def _option_index(options: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((letter, normalize_text(text)) for letter, text in options if text.strip())


def _match_option_text(
    span: str, options: tuple[tuple[str, str], ...] | None, whole: bool = True, exact: bool = False
) -> str | None:
    """The letter of the option whose text the span states: exactly, or (unless `exact`) the one
    option text of 3+ characters it contains. Several contained: AMBIGUOUS in a marker."""
    if not options:
        return None
    norm = normalize_text(span)
    if not norm:
        return None
    index = _option_index(options)
    same = {letter for letter, text in index if text == norm}
    if len(same) == 1 or exact:
        return same.pop() if len(same) == 1 else None
    padded = f" {norm} "
    found = [(ltr, t) for ltr, t in index if len(t) >= 3 and f" {t} " in padded]
    # Drop options whose text is part of another found option's text.
    found = [(ltr, t) for ltr, t in found if not any(t != u and t in u for _, u in found)]
    letters = {letter for letter, _ in found}
    if len(letters) == 1:
        return letters.pop()
    return AMBIGUOUS if len(letters) > 1 and whole else None


def choice_in_span(span: str, opts: Opts, whole: bool) -> str | None:
    """The option letter a span states: `B`, `(B)`, `B) text`, `option B`, or an option's text.

    Order: a lone letter, an option's exact text, a letter with a delimiter (`B)`, `B.`, `(B`),
    an option text the span contains, a letter followed by words (`B because ...`)."""
    letters: str = opts["letters"]
    bare, start, _ = _letter_patterns(letters)
    head = span[:LETTER_CHARS]
    match = bare.fullmatch(head) if whole else None
    if match:
        return match.group(1).upper()
    by_text = _match_option_text(span, opts.get("options"), exact=True)
    if by_text is not None:
        return by_text
    match = start.match(head)
    if match and _strong(match):
        return AMBIGUOUS if match["rest"] else match.group(3)
    by_text = _match_option_text(span, opts.get("options"), whole)
    if by_text is not None:
        return by_text
    if match:
        return AMBIGUOUS if match["rest"] else match.group(3)
    return None


def choice_fallback(completion: str, opts: Opts) -> str | None:
    """A bare letter or option text on the last line, else the last `(B)` / `B)` marker."""
    line = markers.last_line(completion)
    if line is not None:
        letters: str = opts["letters"]
        bare, _, _ = _letter_patterns(letters)
        match = bare.fullmatch(line)
        if match and (match.group(1).isupper() or len(line) > 1):
            return match.group(1).upper()
        by_text = _match_option_text(line, opts.get("options"), whole=False)
        if by_text is not None:
            return by_text
    _, _, marker = _letter_patterns(opts["letters"])
    last = None
    for last in marker.finditer(completion, max(0, len(completion) - 20_000)):  # noqa: B007
        pass
    if last is None:
        return None
    return next(g for g in last.groups() if g).upper()


def yes_no_in_span(span: str) -> str | None:
    """`yes` / `no` (or true / false) from a span's first word; "yes or no" is ambiguous."""
    words = normalize_text(span[:LETTER_CHARS]).split()
    if not words or words[0] not in _YES_NO:
        return None
    first = _YES_NO[words[0]]
    if len(words) >= 3 and words[1] == "or" and _YES_NO.get(words[2], first) != first:
        return AMBIGUOUS
    return first


def yes_no_fallback(completion: str) -> str | None:
    """The completion's first word if yes/no, else the one yes/no value on its last line."""
    first = yes_no_in_span(completion[:100])
    if first is not None:
        return first
    line = markers.last_line(completion)
    if line is None:
        return None
    found = {_YES_NO[m.group(1).lower()] for m in _YES_NO_RE.finditer(line)}
    return found.pop() if len(found) == 1 else None


@lru_cache(maxsize=256)
def _label_pattern(
    labels: tuple[str, ...], synonyms: tuple[tuple[str, tuple[str, ...]], ...] | None
) -> tuple[re.Pattern[str], dict[str, str]]:
    forms: dict[str, str] = {}
    extra = dict(synonyms or ())
    for label in labels:
        key = normalize_text(label)
        for form in (label, *BUILTIN_SYNONYMS.get(key, ()), *extra.get(label, ())):
            forms.setdefault(normalize_text(form), label)
    alternatives = sorted((f for f in forms if f), key=len, reverse=True)
    body = "|".join(r"[\W_]+".join(map(re.escape, f.split())) for f in alternatives)
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE), forms


def _labels_in(text: str, opts: Opts) -> list[str]:
    """Labels mentioned in `text`, in order, skipping negated mentions ("not entailment")."""
    pattern, forms = _label_pattern(opts["labels"], opts.get("synonyms"))
    found = []
    for match in pattern.finditer(text):
        if _NEGATION_RE.search(text, max(0, match.start() - 12), match.start()):
            continue
        found.append(forms[normalize_text(match.group(0))])
    return found


def label_in_span(span: str, opts: Opts, whole: bool) -> str | None:
    """The one label a marker's content names, or the first label after "the answer is"."""
    found = _labels_in(span[: markers.SPAN_CHARS], opts)
    if not found:
        return None
    if whole and len(set(found)) > 1:
        return AMBIGUOUS
    return found[0]


def label_fallback(completion: str, opts: Opts) -> str | None:
    """The one label named on the last line, else the last label mentioned anywhere."""
    line = markers.last_line(completion)
    if line is not None:
        found = set(_labels_in(line, opts))
        if len(found) == 1:
            return found.pop()
    found_all = _labels_in(completion[-20_000:], opts)
    return found_all[-1] if found_all else None
