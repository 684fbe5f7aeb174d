"""One policy for completions cut off at their token limit, in the answer module, used by every
stage that judges: only a final-answer marker closed before the cut counts, never a fallback
(which would read an intermediate number of unfinished reasoning), and never strictly."""

from __future__ import annotations

from synthrl.answers import extract, judge, judge_many, majority_vote
from synthrl.answers.reward import make_reward_fn

MID_REASONING = "She has 12 apples. Then she buys 5 more, so 12 + 5 = 17. Next she gives away 3"
ANSWERED = "12 + 5 = 17.\n#### 17\nTo check: 17 - 5 = 12, which"


def test_a_cut_completion_has_no_fallback_answer() -> None:
    assert extract(MID_REASONING, "number") == "3"  # finished: the last number is the answer
    assert extract(MID_REASONING, "number", truncated=True) is None
    assert not judge(MID_REASONING, "3", "number", truncated=True)


def test_a_marker_closed_before_the_cut_counts() -> None:
    assert extract(ANSWERED, "number", truncated=True) == "17"
    assert judge("so \\boxed{17} and then we", "17", "number", truncated=True)
    assert judge("<answer>B</answer> because", "B", "choice", truncated=True)
    # A marker the cut runs into may be cut short: "#### 1" of "#### 175".
    assert extract("so the total is\n#### 1", "number", truncated=True) is None
    assert extract("<answer>B", "choice", truncated=True) is None
    assert extract("\\boxed{17", "math", truncated=True) is None


def test_a_cut_completion_is_never_strictly_correct() -> None:
    assert judge("12 + 5 = 17\n#### 17", "17", "number", strict=True)
    assert not judge("12 + 5 = 17\n#### 17", "17", "number", strict=True, truncated=True)


def test_votes_and_batches_take_per_completion_flags() -> None:
    texts = [MID_REASONING, MID_REASONING, "#### 3\n", "#### 3\n"]
    vote = majority_vote(texts, "number", truncated=[True, True, False, False])
    assert vote.answer == "3" and vote.votes == 2 and vote.parsed == 2
    assert judge_many(texts, "3", "number", [True, False, False, True]) == [False, True, True, True]


def test_the_reward_follows_the_same_policy() -> None:
    reward = make_reward_fn("number", format_weight=0.0)
    cut = reward([MID_REASONING, MID_REASONING], ["3", "3"], truncated=[True, False])
    assert cut == [0.0, 1.0]
