"""Decide whether two extracted answers are the same answer, and judge completions in batches.

`number`: exact rationals (a tolerance only for literals too large to read exactly, or with
`rel_tol` / `decimals`: the task's `tolerance` / `decimals`). `choice`, `yes_no`, `label`:
identity of the canonical value. `text`: normalised exact match. `math`: in-process fast paths
first (equal normalised LaTeX; two plain numbers compared as rationals), math-verify in the
process pool only for the rest (`mathpool`), with a per-check timeout and a cache of verdicts.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from synthrl.answers import choices, markers, mathpool, numbers
from synthrl.answers.extract import _extract, delatex
from synthrl.answers.options import AMBIGUOUS, Kind, Opts, resolve

log = logging.getLogger(__name__)

_MATH_NOISE = re.compile(r"\s+|\\[!,;: ]|\\left\b|\\right\b|\\displaystyle\b|\^\{?\\circ\}?")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_CACHE_SIZE = 65_536
MAX_MATH_CHARS = 1000
MAX_MATH_DEPTH = 12
"""Answers longer or more deeply nested than this are never real final answers, and make
math-verify's parser slow (exponential in brace depth): they are judged unequal in-process."""
_cache: OrderedDict[tuple[str, str], bool] = OrderedDict()
_pool_failed = False


def normalize_gold(gold: str, kind: Kind, opts: Opts) -> str | None:
    """The gold answer in the canonical form `extract` gives (None if it cannot be read)."""
    gold = str(gold).strip()
    if kind == "number":
        value = numbers.parse_number(gold)
        if value is None:
            return _extract(gold, "number", {**opts, "strict": False})
        return numbers.canonical(value)
    if kind == "math":
        boxed = markers.last_boxed(gold) if "\\boxed" in gold or "\\fbox" in gold else None
        return markers.strip_math_delims(boxed or gold) or None
    if kind == "choice":
        found = choices.choice_in_span(gold, opts, whole=True)
    elif kind == "yes_no":
        found = choices.yes_no_in_span(gold)
    elif kind == "label":
        found = choices.label_in_span(gold, opts, whole=True)
    else:
        found = gold or None
    return None if found == AMBIGUOUS else found


def normalize_text_answer(text: str) -> str:
    """Free-text answers: case, punctuation, articles and whitespace ignored."""
    return " ".join(_ARTICLES.sub(" ", choices.normalize_text(text)).split())


def unwrap_braces(latex: str) -> str:
    """`{{x}}` -> `x`: drop brace pairs that wrap the whole answer."""
    latex = latex.strip()
    for _ in range(64):
        if not (latex.startswith("{") and latex.endswith("}")):
            break
        inner = markers.braced(latex, 0)
        if inner is None or len(inner) != len(latex) - 2:
            break
        latex = inner.strip()
    return latex


def _plausible(latex: str) -> bool:
    """Short enough and shallow enough for math-verify."""
    if len(latex) > MAX_MATH_CHARS:
        return False
    depth = deepest = 0
    for ch in latex:
        if ch in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "})]":
            depth -= 1
    return deepest <= MAX_MATH_DEPTH


def math_key(latex: str) -> str:
    """LaTeX with spacing, `\\left`/`\\right`, degree signs and `\\dfrac` differences removed."""
    key = _MATH_NOISE.sub("", markers.strip_math_delims(latex))
    return key.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").rstrip(".")


def _math_number(latex: str) -> Any:
    return numbers.parse_number(delatex(markers.strip_math_delims(latex)))


def math_fast(pred: str, gold: str) -> bool | None:
    """Decide a math pair without math-verify where that is safe; None means "ask math-verify"."""
    if max(len(pred), len(gold)) > MAX_MATH_CHARS:
        return math_key(pred) == math_key(gold)
    pred, gold = unwrap_braces(pred), unwrap_braces(gold)
    if math_key(pred) == math_key(gold):
        return True
    a, b = _math_number(pred), _math_number(gold)
    if a is not None and b is not None:
        return numbers.numbers_equal(a, b)
    if not (_plausible(pred) and _plausible(gold)):
        return False
    return None


def equivalent_simple(pred: str, gold: str, kind: Kind, opts: Opts) -> bool | None:
    """Equivalence of two canonical answers in-process; None for math pairs needing math-verify."""
    if kind == "number":
        rel_tol = float(opts.get("rel_tol") or 0.0)
        decimals = opts.get("decimals")
        if pred == gold:
            return True
        exact = not rel_tol and decimals is None
        if exact and max(len(pred), len(gold)) < 300 and "e" not in pred + gold:
            return False  # canonical forms of exact values: equal values, equal strings
        a, b = numbers.parse_number(pred), numbers.parse_number(gold)
        if a is None or b is None:
            return pred == gold
        return numbers.numbers_equal(a, b, rel_tol, decimals)
    if kind == "math":
        return math_fast(pred, gold)
    if kind == "text":
        return normalize_text_answer(pred) == normalize_text_answer(gold)
    return pred == gold


def _cache_put(key: tuple[str, str], verdict: bool) -> None:
    _cache[key] = verdict
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)


def math_verify_many(pairs: Sequence[tuple[str, str]], opts: Opts) -> list[bool]:
    """math-verify verdicts for (pred, gold) pairs: cached, pooled unless `use_pool=False`."""
    global _pool_failed
    timeout = float(opts.get("timeout") or mathpool.DEFAULT_TIMEOUT)
    pairs = [(unwrap_braces(p), unwrap_braces(g)) for p, g in pairs]
    known = {p: v for p in set(pairs) if (v := _cache.get(p)) is not None}
    todo = sorted(set(pairs) - known.keys())
    if todo:
        use_pool = opts.get("use_pool", True) and not _pool_failed
        verdicts: list[bool] | None = None
        if use_pool:
            try:
                verdicts = mathpool.run(todo, timeout)
            except (RuntimeError, OSError) as err:
                _pool_failed = True
                log.warning("math-verify pool unavailable (%s); checking in-process", err)
        if verdicts is None:
            verdicts = [mathpool.verify_in_process(p, g, timeout) for p, g in todo]
        for pair, verdict in zip(todo, verdicts, strict=True):
            known[pair] = verdict
            _cache_put(pair, verdict)
    return [known[p] for p in pairs]


def judge_rows(rows: Sequence[tuple[str, str, Kind, Mapping[str, Any]]]) -> list[bool]:
    """Judge (completion, gold, kind, opts) rows; math-verify only where fast paths cannot decide.

    Every judgement in synthrl goes through here, so one completion is never judged two ways.
    """
    verdicts: list[bool] = [False] * len(rows)
    pending: dict[tuple[float, bool], dict[int, tuple[str, str]]] = {}
    for i, (completion, gold, kind, raw_opts) in enumerate(rows):
        opts = resolve(kind, raw_opts)
        pred = None if completion is None else _extract(completion, kind, opts)
        gold_norm = normalize_gold(gold, kind, opts)
        if pred is None or gold_norm is None:
            continue
        verdict = equivalent_simple(pred, gold_norm, kind, opts)
        if verdict is None:
            group = (float(opts.get("timeout") or 0), bool(opts.get("use_pool", True)))
            pending.setdefault(group, {})[i] = (pred, gold_norm)
        else:
            verdicts[i] = verdict
    for (timeout, use_pool), group_pairs in pending.items():
        opts = {"timeout": timeout or None, "use_pool": use_pool}
        results = math_verify_many(list(group_pairs.values()), opts)
        for i, result in zip(group_pairs, results, strict=True):
            verdicts[i] = result
    return verdicts
