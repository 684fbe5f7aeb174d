"""Exact early stopping of the majority vote: stopping where `vote_settled` says never changes a
label or a keep/drop decision against drawing all k votes (property test over random votes)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from synthrl.answers import vote_answers, vote_settled


def outcome(answers: list[str | None], min_agreement: float, k: int) -> tuple[bool, str | None]:
    vote = vote_answers(answers, "number", min_agreement)
    kept = vote.accepted and vote.answer is not None
    return kept, (vote.answer if kept else None)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(min_value=1, max_value=9).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.sampled_from(["1", "2", "3", None]), min_size=k, max_size=k),
            st.sampled_from([0.0, 0.34, 0.5, 0.6, 0.75, 1.0]),
        )
    )
)
def test_early_stop_never_changes_the_outcome(case: tuple) -> None:
    k, answers, m = case
    drawn = max(1, math.ceil(m * k - 1e-9))
    while drawn < k and not vote_settled(answers[:drawn], k, "number", m):
        drawn += 1
    assert outcome(answers[:drawn], m, k) == outcome(answers, m, k)


def test_settled_cases() -> None:
    assert vote_settled(["5", "5", "5"], 4, "number", 0.75)  # kept, label fixed
    assert not vote_settled(["5", "5", "6"], 4, "number", 0.75)  # 4th vote decides
    assert vote_settled(["5", "6", "7"], 4, "number", 0.75)  # nobody can reach 3 of 4
    assert not vote_settled(["5", "5"], 4, "number", 0.5)  # "6","6" would tie
    assert vote_settled(["5", "5", "5"], 5, "number", 0.5)
