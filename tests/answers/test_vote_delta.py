"""Stopping the majority vote with a stated probability (`verify.delta`): on simulated votes with
known answer distributions the share of outcomes that differ from drawing all k stays within
delta, fewer votes are drawn than under the exact rule, delta = 0 is the exact rule, and larger
deltas never draw more."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthrl.answers import vote_answers, vote_settled
from synthrl.answers.vote import change_probability, earliest_stop, vote_settled_probably
from synthrl.synthesis.votes import votes_drawn

Answers = list[str | None]


def outcome(answers: Answers, min_agreement: float) -> str | None:
    """The label a vote keeps, None when it drops the sample."""
    vote = vote_answers(answers, "number", min_agreement)
    return vote.answer if vote.accepted else None


def simulated(count: int, k: int, seed: int) -> list[Answers]:
    """k votes for each of `count` samples: the right answer "1" with a probability from a mix
    of easy and hard samples, a common wrong answer "2", unreadable votes and scattered ones."""
    rng = random.Random(seed)
    samples = []
    for _ in range(count):
        right = rng.choice([(0.85, 1.0), (0.5, 0.85), (0.2, 0.5), (0.0, 0.2)])
        p = rng.uniform(*right)
        wrong = (1 - p) * rng.uniform(0, 0.8)
        unread = (1 - p) * 0.1
        votes: Answers = []
        for _ in range(k):
            u = rng.random()
            if u < p:
                votes.append("1")
            elif u < p + wrong:
                votes.append("2")
            elif u < p + wrong + unread:
                votes.append(None)
            else:
                votes.append(str(rng.randint(3, 40)))
        samples.append(votes)
    return samples


@pytest.mark.parametrize("k", [3, 8, 16])
def test_changed_outcomes_stay_within_delta(k: int) -> None:
    samples = simulated(2000, k, seed=k)
    full = [outcome(votes, 0.5) for votes in samples]
    exact = sum(votes_drawn(votes, "number", k, 0.5, adaptive=True) for votes in samples)
    spent = {}
    for delta in (0.05, 0.1, 0.2):
        drawn = [votes_drawn(v, "number", k, 0.5, True, delta) for v in samples]
        stopped = [outcome(v[:d], 0.5) for v, d in zip(samples, drawn, strict=True)]
        changed = sum(a != b for a, b in zip(stopped, full, strict=True)) / len(samples)
        assert changed <= delta + 0.01, (delta, changed)
        spent[delta] = sum(drawn)
    assert spent[0.05] >= spent[0.1] >= spent[0.2]
    if k == 3:  # one vote never settles (change probability 1/3), two settle as exactly
        assert spent[0.2] == exact
    else:
        assert spent[0.1] < 0.9 * exact
    assert exact < 2000 * k


def test_saves_votes_where_the_exact_rule_cannot() -> None:
    """k = 16, min_agreement 0.5: the exact rule needs 8 votes to keep a sample; after 4
    unanimous votes the outcome changes only if the 12 to come give it at most 4 more (then it
    misses 8 votes or the new-answer bucket catches it): probability 70 / 1820 = 1/26."""
    assert earliest_stop(16, 0.5, 0.0) == 8 and earliest_stop(16, 0.5, 0.05) == 4
    assert not vote_settled(["7"] * 4, 16, "number", 0.5)
    assert vote_settled_probably(["7"] * 4, 16, "number", 0.5, delta=0.05)
    assert change_probability(["7", "7", "7", "7"], 16, "number", 0.5) == pytest.approx(1 / 26)
    assert change_probability(["7"], 3, "number", 0.5) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("answers", "k", "min_agreement"),
    [(["1", "1", "2"], 8, 0.5), (["1", "2", None], 6, 0.5), (["1", "1", "1", "2"], 10, 0.6)],
)
def test_change_probability_is_the_urns(answers: Answers, k: int, min_agreement: float) -> None:
    """The exact sum against a seeded simulation of the urn it models: the next vote repeats a
    group seen c times with weight c, or goes to the unreadable / new bucket (weight u + 1),
    whose votes are one new answer."""
    rng = random.Random(0)
    now = outcome(answers, min_agreement)
    groups = sorted({a for a in answers if a is not None})
    changed, runs = 0, 6000
    for _ in range(runs):
        weights = [answers.count(g) for g in groups] + [1 + answers.count(None)]
        votes = list(answers)
        for _ in range(k - len(answers)):
            pick = rng.choices(range(len(weights)), weights)[0]
            weights[pick] += 1
            votes.append(groups[pick] if pick < len(groups) else "999")
        changed += outcome(votes, min_agreement) != now
    assert change_probability(answers, k, "number", min_agreement) == pytest.approx(
        changed / runs, abs=0.02
    )


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=9).flatmap(
        lambda k: st.tuples(
            st.just(k),
            st.lists(st.sampled_from(["1", "2", "3", None]), min_size=0, max_size=k),
            st.sampled_from([0.0, 0.34, 0.5, 0.6, 0.75, 1.0]),
            st.sampled_from([0.01, 0.1, 0.3]),
        )
    )
)
def test_delta_zero_is_the_exact_rule_and_larger_deltas_stop_sooner(case: tuple) -> None:
    k, answers, agreement, delta = case
    exact = vote_settled(answers, k, "number", agreement)
    assert vote_settled_probably(answers, k, "number", agreement, 0.0) == exact
    assert (change_probability(answers, k, "number", agreement) == 0) == exact
    if vote_settled_probably(answers, k, "number", agreement, delta):
        assert vote_settled_probably(answers, k, "number", agreement, min(0.49, 2 * delta))
    assert earliest_stop(k, agreement, delta) >= earliest_stop(k, agreement, 2 * delta)
