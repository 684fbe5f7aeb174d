"""TRL reward functions and veRL `compute_score`, built on the same checker."""

from __future__ import annotations

import pytest

from synthrl.answers import (
    AnswerOptionError,
    compute_score,
    follows_format,
    judge,
    make_reward_fn,
    reward_fn,
)


def test_trl_reward_correctness_and_format_bonus() -> None:
    reward = make_reward_fn("number")
    completions = ["so 18.\n#### 18", "\\boxed{18}", "#### 17", "no idea"]
    assert reward(completions, answer=["18"] * 4) == [1.1, 1.0, 0.1, 0.0]
    assert make_reward_fn("number", format_weight=0)(completions, answer=["18"] * 4) == [
        1.0,
        1.0,
        0.0,
        0.0,
    ]


def test_trl_conversational_completions() -> None:
    reward = make_reward_fn("choice")
    completions = [
        [{"role": "assistant", "content": "<think>..</think><answer>B</answer>"}],
        [{"role": "assistant", "content": [{"type": "text", "text": "The answer is C"}]}],
    ]
    assert reward(completions, answer=["B", "B"]) == [1.1, 0.0]


def test_trl_prompt_is_never_judged() -> None:
    reward = make_reward_fn("number")
    prompts = ["Example: #### 18. Now solve ..."]
    assert reward(completions=["I don't know"], prompts=prompts, answer=["18"]) == [0.0]


def test_trl_per_row_columns() -> None:
    completions = ["#### 3", "<answer>Refuse</answer>", "<answer>neutral</answer>"]
    scores = reward_fn(
        completions,
        answer=["3", "B", "neutral"],
        kind=["number", "choice", "label"],
        options=[None, {"A": "Accept", "B": "Refuse", "C": None, "D": None}, None],
        labels=[None, None, ["entailment", "neutral", "contradiction"]],
        trainer_state=object(),
    )
    assert scores == [1.1, 1.1, 1.1]


def test_trl_reward_needs_a_kind() -> None:
    with pytest.raises(AnswerOptionError, match="kind"):
        reward_fn(["#### 3"], answer=["3"])
    with pytest.raises(AnswerOptionError, match="labels"):
        make_reward_fn("label")


def test_reward_agrees_with_judge_and_follows_format() -> None:
    completions = ["#### 5", "The answer is 5", "#### 5 apples\nmore text", "\\boxed{6}"]
    scores = make_reward_fn("number", format_weight=0.25)(completions, answer=["5"] * 4)
    expected = [
        float(judge(c, "5", "number")) + 0.25 * follows_format(c, "number") for c in completions
    ]
    assert scores == expected


@pytest.mark.parametrize(
    ("data_source", "solution", "truth", "extra", "score"),
    [
        ("openai/gsm8k", "... #### 72", "72", None, 1.1),
        ("openai/gsm8k", "... so 72", "72", None, 1.0),
        ("DigitalLearningGmbH/MATH-lighteval", "\\boxed{\\frac{1}{2}}", "0.5", None, 1.1),
        ("logiqa", "<answer>C</answer>", "C", None, 1.1),
        ("medqa", "<answer>Aspirin</answer>", "A", {"options": {"A": "Aspirin"}}, 1.1),
        ("synthrl/custom", "<answer>yes</answer>", "yes", {"kind": "yes_no"}, 1.1),
        ("synthrl/custom", "<answer>no</answer>", "yes", {"kind": "yes_no"}, 0.1),
        ("synthrl/custom", "#### 4", "4", {"kind": "number", "format_weight": 0}, 1.0),
    ],
)
def test_verl_compute_score(
    data_source: str, solution: str, truth: str, extra: dict | None, score: float
) -> None:
    assert compute_score(data_source, solution, truth, extra) == pytest.approx(score)


def test_verl_unknown_source_says_what_to_do() -> None:
    with pytest.raises(AnswerOptionError, match="extra_info"):
        compute_score("my_dataset", "#### 1", "1", {})


def test_unknown_kind_in_data_is_explained() -> None:
    with pytest.raises(AnswerOptionError, match="unknown answer kind"):
        reward_fn(["#### 3"], answer=["3"], kind=["numbr"])
    with pytest.raises(AnswerOptionError, match="unknown answer kind"):
        compute_score("x", "#### 3", "3", {"kind": "numbr"})


def test_lenient_credit_pays_full_only_in_the_required_format() -> None:
    """Partial credit defined on the checker's binary verdicts: strict-correct 1, correct but
    read leniently c, wrong 0, plus the format bonus."""
    reward = make_reward_fn("number", format_weight=0.1, lenient_credit=0.5)
    texts = ["so it is 18.\n#### 18", "the answer is \\boxed{18}", "#### 17", "no idea"]
    assert reward(texts, ["18"] * 4) == pytest.approx([1.1, 0.5, 0.1, 0.0])
    paper = make_reward_fn("number", format_weight=0.0)
    assert paper(texts, ["18"] * 4) == [1.0, 1.0, 0.0, 0.0]
