"""Majority vote: grouping by equivalence, agreement, unparsed votes, thresholds and ties."""

from __future__ import annotations

import pytest

from synthrl.answers import Vote, majority_vote, vote_answers


def test_groups_equivalent_numbers() -> None:
    completions = ["#### 1,000", "#### 1000", "\\boxed{1000}", "#### 999", "no answer here"]
    vote = majority_vote(completions, "number")
    assert vote.answer == "1000"
    assert (vote.votes, vote.parsed, vote.total, vote.failed) == (3, 4, 5, 1)
    assert vote.agreement == pytest.approx(0.6)
    assert vote.accepted and not vote.tied


def test_groups_equivalent_math_through_math_verify() -> None:
    completions = [
        "\\boxed{\\frac{1}{2}}",
        "\\boxed{0.5}",
        "\\boxed{\\frac12}",
        "\\boxed{2\\sqrt{2}}",
        "\\boxed{\\sqrt{8}}",
        "\\boxed{\\sqrt 8}",
        "\\boxed{\\sqrt{8}}",
    ]
    vote = majority_vote(completions, "math", min_agreement=0.5)
    assert vote.answer == "\\sqrt{8}"  # the most common spelling within the winning group
    assert vote.votes == 4 and vote.accepted


def test_min_agreement_drops_weak_consensus() -> None:
    completions = ["<answer>A</answer>"] * 5 + ["<answer>B</answer>"] * 3 + ["garbage"] * 8
    assert majority_vote(completions, "choice", min_agreement=0.25).accepted
    vote = majority_vote(completions, "choice", min_agreement=0.5)
    assert vote.answer == "A" and vote.agreement == pytest.approx(5 / 16) and not vote.accepted
    assert vote.failed == 8


def test_tie_is_not_accepted() -> None:
    vote = majority_vote(["yes", "no", "Yes.", "No."], "yes_no", min_agreement=0.0)
    assert vote.tied and not vote.accepted
    assert vote.answer == "yes"  # first seen, but flagged


def test_nothing_parsed() -> None:
    vote = majority_vote(["", "hmm", "???"], "number", min_agreement=0.0)
    assert vote == Vote(None, 0.0, 0, 0, 3, tied=False, accepted=False)
    assert majority_vote([], "number").total == 0


def test_hedged_answer_is_not_a_vote() -> None:
    vote = majority_vote(["The answer is B or C", "<answer>B</answer>"], "choice")
    assert vote.parsed == 1 and vote.answer == "B"


def test_labels_and_text() -> None:
    labels = {"labels": ["entailment", "neutral", "contradiction"]}
    completions = ["<answer>Entailment</answer>", "<answer>entails</answer>", "<answer>neutral"]
    vote = majority_vote(completions, "label", **labels)
    assert vote.answer == "entailment" and vote.votes == 2
    vote = majority_vote(["<answer>The Paris</answer>", "<answer>paris.</answer>"], "text")
    assert vote.votes == 2


def test_vote_answers_on_extracted() -> None:
    vote = vote_answers(["0.5", "1/2", None, "3"], "number", min_agreement=0.5)
    assert vote.votes == 2 and vote.agreement == 0.5 and vote.accepted


def test_vote_is_frozen() -> None:
    vote = majority_vote(["#### 1"], "number")
    with pytest.raises(AttributeError):
        vote.answer = "2"  # type: ignore[misc]


def test_math_groups_compare_original_latex() -> None:
    """Group keys drop spaces; math-verify must still see the original `\\pi r^2`."""
    completions = ["\\boxed{\\pi r^2}", "\\boxed{r^2 \\pi}", "\\boxed{\\pi r^{2}}", "\\boxed{2}"]
    vote = majority_vote(completions, "math")
    assert vote.votes == 3 and vote.accepted
