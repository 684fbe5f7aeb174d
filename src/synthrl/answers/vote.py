"""Majority vote over k completions, grouping answers by equivalence rather than string identity.

Used by the verify stage (the instructor's k answers to a synthetic question) and anywhere a
consensus answer is needed. Unlike the paper's released code (`statistics.mode`, no threshold), a
sample whose winning answer has too little agreement, or ties with another, is not accepted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from synthrl.answers import numbers
from synthrl.answers.equivalence import (
    equivalent_simple,
    math_key,
    math_verify_many,
    normalize_text_answer,
)
from synthrl.answers.extract import _extract
from synthrl.answers.options import Kind, Opts, resolve


@dataclass(frozen=True)
class Vote:
    """The outcome of a majority vote.

    `agreement` is `votes / total`: completions whose answer could not be read count against
    the winner. `accepted` is False when no answer was read, when the top two groups tie, or when
    `agreement < min_agreement`.
    """

    answer: str | None
    agreement: float
    votes: int
    parsed: int
    total: int
    tied: bool
    accepted: bool

    @property
    def failed(self) -> int:
        """How many completions had no readable answer."""
        return self.total - self.parsed


def _group_key(answer: str, kind: Kind) -> str:
    if kind == "math":
        return math_key(answer)
    if kind == "text":
        return normalize_text_answer(answer)
    if kind == "number":
        value = numbers.parse_number(answer)
        return answer if value is None else numbers.canonical(value)
    return answer


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _merge_equivalent(reps: list[str], kind: Kind, opts: Opts) -> list[int]:
    """Union-find over distinct answers: root index of each answer's equivalence group."""
    parent = list(range(len(reps)))
    pending: list[tuple[int, int]] = []
    for i, j in combinations(range(len(reps)), 2):
        verdict = equivalent_simple(reps[j], reps[i], kind, opts)
        if verdict is None:
            pending.append((i, j))
        elif verdict:
            parent[_find(parent, j)] = _find(parent, i)
    if pending:
        results = math_verify_many([(reps[j], reps[i]) for i, j in pending], opts)
        for (i, j), same in zip(pending, results, strict=True):
            if same:
                parent[_find(parent, j)] = _find(parent, i)
    return [_find(parent, i) for i in range(len(reps))]


def group_counts(answers: Sequence[str | None], kind: Kind, **opts: Any) -> list[int]:
    """How many answers fall in each equivalence group, largest first (unreadable ones not)."""
    resolved = resolve(kind, opts)
    readable = [a for a in answers if a is not None]
    keys = [_group_key(a, kind) for a in readable]
    first: dict[str, str] = {}
    for answer, key in zip(readable, keys, strict=True):
        first.setdefault(key, answer)
    if not first:
        return []
    roots = dict(zip(first, _merge_equivalent(list(first.values()), kind, resolved), strict=True))
    return sorted(Counter(roots[k] for k in keys).values(), reverse=True)


def vote_settled(
    answers: Sequence[str | None], k: int, kind: Kind, min_agreement: float = 0.5, **opts: Any
) -> bool:
    """True when the remaining k - len(answers) votes cannot change the outcome of a k-vote
    majority: the label, or whether it is kept (agreement = winner's votes / k >=
    `min_agreement`, no tie). Exact: stopping here never changes a label or a keep/drop."""
    remaining = k - len(answers)
    if remaining <= 0:
        return True
    counts = [*group_counts(answers, kind, **opts), 0, 0]
    leader, second = counts[0], counts[1]
    bar = min_agreement * k
    if leader + remaining < bar - 1e-9:
        return True  # no answer can reach the agreement bar: dropped whatever comes
    return leader >= bar - 1e-9 and leader > second + remaining  # kept, label fixed


def vote_answers(
    answers: Sequence[str | None], kind: Kind, min_agreement: float = 0.5, **opts: Any
) -> Vote:
    """Majority vote over already extracted answers (None for an unreadable completion)."""
    resolved = resolve(kind, opts)
    total = len(answers)
    readable = [a for a in answers if a is not None]
    keys = [_group_key(a, kind) for a in readable]
    first: dict[str, str] = {}  # each distinct key and its first answer, in order of appearance
    for answer, key in zip(readable, keys, strict=True):
        first.setdefault(key, answer)
    if not first:
        return Vote(None, 0.0, 0, 0, total, tied=False, accepted=False)
    roots = _merge_equivalent(list(first.values()), kind, resolved)
    root_of_key = dict(zip(first, roots, strict=True))
    counts = Counter(root_of_key[k] for k in keys)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    winner, votes = ranked[0]
    tied = len(ranked) > 1 and ranked[1][1] == votes
    forms = Counter(a for a, k in zip(readable, keys, strict=True) if root_of_key[k] == winner)
    answer = forms.most_common(1)[0][0]
    agreement = votes / total
    accepted = not tied and agreement >= min_agreement
    return Vote(answer, agreement, votes, len(readable), total, tied=tied, accepted=accepted)


def majority_vote(
    completions: Sequence[str],
    kind: Kind,
    min_agreement: float = 0.5,
    truncated: Sequence[bool] | bool | None = None,
    **opts: Any,
) -> Vote:
    """Extract an answer from each completion and vote; see `Vote` for the fields.

    `min_agreement` is the share of all k completions the winner needs to be `accepted`.
    `truncated[i]`: completion i was cut off at its token limit (the answer module's policy for
    cut-off completions applies: see `synthrl.answers.extract`).
    """
    resolved = resolve(kind, opts)
    if truncated is None or isinstance(truncated, bool):  # one flag for all, as an option
        cuts = [bool(truncated)] * len(completions)
    else:
        cuts = list(truncated)
    if len(cuts) != len(completions):
        raise ValueError(f"{len(completions)} completions but {len(cuts)} truncation flags")
    answers = [
        _extract(c, kind, {**resolved, "truncated": cut})
        for c, cut in zip(completions, cuts, strict=True)
    ]
    return vote_answers(answers, kind, min_agreement, **opts)
