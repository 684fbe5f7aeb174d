"""Majority vote over k completions, grouping answers by equivalence rather than string identity.

Used by the verify stage (the instructor's k answers to a synthetic question) and anywhere a
consensus answer is needed. Unlike the paper's released code (`statistics.mode`, no threshold), a
sample whose winning answer has too little agreement, or ties with another, is not accepted.

Adaptive voting stops a sample before all k votes: `vote_settled` when the remaining votes cannot
change the outcome, `vote_settled_probably` also when they change it with a posterior predictive
probability of at most delta (docs/scoring.md, "Verification votes").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
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

NEW_ANSWER_WEIGHT = 1  # the Dirichlet process's concentration in `change_probability`


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
    return _settled_exactly(
        group_counts(answers, kind, **opts), remaining, needed_votes(k, min_agreement)
    )


def needed_votes(k: int, min_agreement: float) -> int:
    """Votes of k an answer needs to be kept (agreement >= min_agreement; at least one)."""
    return max(1, math.ceil(min_agreement * k - 1e-9))


def _settled_exactly(counts: Sequence[int], remaining: int, need: int) -> bool:
    leader, second = [*counts, 0, 0][:2]
    if leader + remaining < need:
        return True  # no answer can reach the agreement bar: dropped whatever comes
    return leader >= need and leader > second + remaining  # kept, label fixed


def vote_settled_probably(
    answers: Sequence[str | None],
    k: int,
    kind: Kind,
    min_agreement: float = 0.5,
    delta: float = 0.0,
    **opts: Any,
) -> bool:
    """`vote_settled`, or (delta > 0) the chance that the remaining votes change the outcome of
    stopping now is at most `delta` (`change_probability`). delta = 0: exactly `vote_settled`."""
    remaining = k - len(answers)
    if remaining <= 0:
        return True
    counts = group_counts(answers, kind, **opts)
    need = needed_votes(k, min_agreement)
    if _settled_exactly(counts, remaining, need):
        return True
    if delta <= 0:
        return False
    unread = len(answers) - sum(counts)
    kept = _kept_now(counts, len(answers), min_agreement)
    return _change_probability(tuple(counts), unread, remaining, need, kept) <= delta


def change_probability(
    answers: Sequence[str | None], k: int, kind: Kind, min_agreement: float = 0.5, **opts: Any
) -> float:
    """Posterior predictive probability that drawing the remaining k - len(answers) votes gives
    a k-vote outcome (label, or kept / dropped; a tie drops) other than the vote over `answers`.

    The votes are modelled as draws from an unknown distribution over answers with a Dirichlet
    process prior (concentration `NEW_ANSWER_WEIGHT`): the next vote repeats a group seen c times
    with probability c / (n + 1) and is unreadable or a new answer with probability (u + 1) /
    (n + 1), u of the n votes so far unreadable. The remaining votes then follow a Polya urn
    (Dirichlet-multinomial), summed exactly. Pessimistic: the votes that go to the unreadable /
    new bucket are taken to be one new answer, which may win; so the probability is 0 exactly
    when `vote_settled` holds."""
    remaining = k - len(answers)
    if remaining <= 0:
        return 0.0
    counts = group_counts(answers, kind, **opts)
    unread = len(answers) - sum(counts)
    kept = _kept_now(counts, len(answers), min_agreement)
    need = needed_votes(k, min_agreement)
    return _change_probability(tuple(counts), unread, remaining, need, kept)


def earliest_stop(k: int, min_agreement: float, delta: float) -> int:
    """The fewest votes after which a sample can stop kept: m unanimous votes settle it
    (`vote_settled_probably`). delta = 0: the agreement bar, ceil(min_agreement x k)."""
    need = needed_votes(k, min_agreement)
    for m in range(1, min(need, k)):
        kept = _kept_now([m], m, min_agreement)
        if delta > 0 and _change_probability((m,), 0, k - m, need, kept) <= delta:
            return m
    return min(need, k)


def _kept_now(counts: Sequence[int], drawn: int, min_agreement: float) -> bool:
    """Whether the vote over the drawn answers keeps its leader (as `vote_answers` decides)."""
    leader, second = [*counts, 0, 0][:2]
    return leader > second and leader / drawn >= min_agreement


@lru_cache(maxsize=1 << 16)
def _change_probability(
    counts: tuple[int, ...], unread: int, remaining: int, need: int, kept: bool
) -> float:
    """`change_probability` from the group counts (largest first), the unreadable votes so far,
    the votes to come, the votes needed of k and whether stopping now keeps the leader."""
    alphas = [*counts, NEW_ANSWER_WEIGHT + unread]  # the urn's weights
    starts = [*counts, 0]  # the new-answer bucket starts with no votes for any answer
    total = math.comb(sum(alphas) + remaining - 1, remaining)
    if kept:  # the leader must still win with at least `need` votes
        return (total - _wins(0, alphas, starts, remaining, need)) / total
    return sum(_wins(j, alphas, starts, remaining, need) for j in range(len(alphas))) / total


def _wins(j: int, alphas: list[int], starts: list[int], remaining: int, need: int) -> int:
    """Polya-urn weight (out of comb(sum(alphas) + remaining - 1, remaining)) of the ways the
    remaining votes fall so that bucket j ends with >= `need` votes and more than any other."""
    ways = 0
    for drawn in range(max(0, need - starts[j]), remaining + 1):
        final, rest = starts[j] + drawn, remaining - drawn
        poly = [1] + [0] * rest  # ways the other buckets take `rest` votes, each staying below
        for i, (alpha, start) in enumerate(zip(alphas, starts, strict=True)):
            if i == j:
                continue
            cap = min(rest, final - start - 1)
            if cap < 0:
                break
            poly = _times(poly, [math.comb(alpha + y - 1, y) for y in range(cap + 1)], rest)
        else:
            ways += math.comb(alphas[j] + drawn - 1, drawn) * poly[rest]
    return ways


def _times(a: list[int], b: list[int], degree: int) -> list[int]:
    """The product of two polynomials (coefficient lists), up to `degree`."""
    out = [0] * (degree + 1)
    for i, x in enumerate(a):
        if x:
            for y_i, y in enumerate(b[: degree + 1 - i]):
                out[i + y_i] += x * y
    return out


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
