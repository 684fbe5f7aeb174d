"""Public judging functions: one completion, a batch, two answers, or a full explanation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from synthrl.answers.equivalence import (
    equivalent_simple,
    judge_rows,
    math_verify_many,
    normalize_gold,
)
from synthrl.answers.extract import _extract, required_format
from synthrl.answers.options import Kind, resolve


def judge(completion: str, gold: str, kind: Kind, **opts: Any) -> bool:
    """True when the answer extracted from `completion` is equivalent to `gold`.

    >>> judge("... so she makes $18.\\n#### 18 dollars", "18", "number")
    True
    """
    return judge_rows([(completion, gold, kind, opts)])[0]


def judge_many(
    completions: Sequence[str],
    golds: Sequence[str] | str,
    kind: Kind,
    truncated: Sequence[bool] | bool | None = None,
    **opts: Any,
) -> list[bool]:
    """`judge` over a batch (one gold per completion, or one gold for all), math-verify pooled.
    `truncated[i]`: completion i was cut off at its token limit (see `extract`'s policy)."""
    if isinstance(golds, str):
        golds = [golds] * len(completions)
    if truncated is None or isinstance(truncated, bool):  # one flag for all, as an option
        cuts = [bool(truncated)] * len(completions)
    else:
        cuts = list(truncated)
    if not len(golds) == len(cuts) == len(completions):
        raise ValueError(
            f"{len(completions)} completions, {len(golds)} gold answers, {len(cuts)} cut flags"
        )
    rows = [
        (c, g, kind, {**opts, "truncated": cut} if cut else opts)
        for c, g, cut in zip(completions, golds, cuts, strict=True)
    ]
    return judge_rows(rows)


def equivalent(answer: str, gold: str, kind: Kind, **opts: Any) -> bool:
    """True when two answers (not completions) are the same answer, e.g. `1,000` and `1000`."""
    resolved = resolve(kind, opts)
    a, b = normalize_gold(answer, kind, resolved), normalize_gold(gold, kind, resolved)
    if a is None or b is None:
        return False
    verdict = equivalent_simple(a, b, kind, resolved)
    if verdict is None:
        verdict = math_verify_many([(a, b)], resolved)[0]
    return verdict


def explain(completion: str, gold: str, kind: Kind, **opts: Any) -> dict[str, Any]:
    """What the checker saw: the extracted and strict answers, the gold, and the verdicts."""
    resolved = resolve(kind, opts)
    strict_opts = {**resolved, "strict": True}
    return {
        "kind": kind,
        "extracted": _extract(completion, kind, {**resolved, "strict": False}),
        "strict_extracted": _extract(completion, kind, strict_opts),
        "required_format": required_format(kind, resolved.get("fmt")),
        "gold": normalize_gold(gold, kind, resolved),
        "correct": judge(completion, gold, kind, **{**opts, "strict": False}),
        "strict_correct": judge(completion, gold, kind, **{**opts, "strict": True}),
    }
