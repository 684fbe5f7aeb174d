"""Each content check on its own, on inputs the embedded instructor (Qwen2.5-Coder-1.5B Q4_K_M)
wrote in real runs of the tasks under tests/e2e/tasks (collected 2026-12, `synthrl run TASK
--preset cpu --to verify --set generate.n=30`), and on good inputs of the same runs that must
pass; then the checks as the stages apply them (`filters.quality_filter`), with counted reasons
and kept evidence."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from synthrl.config import QualityConfig
from synthrl.synthesis.checks import (
    CHECKS,
    InputChecks,
    answer_format_in_input,
    check_input,
    drift,
    format_wording,
    input_parts,
    missing_part,
    near_empty_input,
    reasoning_in_input,
    repeats_instructions,
    states_own_answer,
)
from synthrl.synthesis.filters import quality_filter
from synthrl.task import load_task

TASKS = Path(__file__).resolve().parents[1] / "e2e" / "tasks"
REVIEW = load_task(TASKS / "review3.yaml")
LEASE = load_task(TASKS / "lease_yes_no.yaml")
CHOICE = load_task(TASKS / "science_choice.yaml")
LABELS = ("positive", "negative", "neutral")


# --- reasoning and answer format in the input --------------------------------------------------


def test_reasoning_tags() -> None:
    leaked = (
        "<think>The user wants a positive review of a hotel, so I will describe a pleasant "
        "stay.</think> The room was spotless and the staff were kind."
    )
    assert reasoning_in_input(leaked).evidence == "<think>"
    assert reasoning_in_input("I think the room was clean.") is None


@pytest.mark.parametrize(
    "text",
    [
        "Clause: The deposit is returned.\nQuestion: Is it refundable?\n<answer>yes</answer>",
        "A train travels 60 km in 1.5 hours. What is its speed?\n#### 40",
        "Solve for x: 2x + 3 = 7. The answer is 2.",
        "What is 3 + 4? \\boxed{7}",
        "How many legs do 3 spiders have? Final answer: 24",
    ],
)
def test_answer_format_in_the_input(text: str) -> None:
    assert answer_format_in_input(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "The tenant's answer is due within ten days of the notice.",
        "Question: Which answer best explains why plants need light?",
        "In the markdown file, a heading starts with ## and a bold word with **.",
    ],
)
def test_answer_words_that_are_not_the_answer_format(text: str) -> None:
    assert answer_format_in_input(text) is None


# --- an input that states its own answer --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The pasta was cold and the waiter ignored us. Overall, this is a negative review.",
        "Great battery life and a sharp screen. It is clearly a positive experience.",
        "The hotel was fine, nothing special. Sentiment: neutral",
    ],
)
def test_a_review_that_labels_itself(text: str) -> None:
    assert states_own_answer(text, LABELS, describes=True) is not None


@pytest.mark.parametrize(
    "text",
    [
        "The staff were positive and helpful, and the breakfast was excellent.",
        "I was negative about the place at first, but the view changed my mind completely.",
        "Overall, the stay was pleasant and quiet.",
    ],
)
def test_label_words_in_a_review_are_not_a_statement(text: str) -> None:
    assert states_own_answer(text, LABELS, describes=True) is None


def test_choice_and_yes_no_answers_stated_in_the_input() -> None:
    letters = list("ABCD")
    stated = (
        "Which gas do plants absorb?\nA. Oxygen\nB. Carbon dioxide\nC. Helium\nD. Neon\nAnswer: B"
    )
    assert states_own_answer(stated, letters, letters=True).evidence == "Answer: B"
    assert states_own_answer("The correct option is (C).", letters, letters=True) is not None
    vignette = "Answer: A patient with fever asks which drug to take.\nA. x\nB. y\nC. z\nD. w"
    assert states_own_answer(vignette, letters, letters=True) is None  # "A" is an article
    lease = "Clause: Pets are not allowed.\nQuestion: May the tenant keep a cat? Answer: no"
    assert states_own_answer(lease, ["yes", "no"]) is not None
    question = "Clause: No fee is due.\nQuestion: Overall, is there no fee for late rent?"
    assert states_own_answer(question, ["yes", "no"]) is None  # only label tasks describe


# --- instructions repeated ----------------------------------------------------------------------


def test_an_input_that_is_the_input_format_itself() -> None:
    checks = InputChecks.for_task(LEASE)
    echo = (
        "The lease clause written as 'Clause: ...', then on a new line a yes-or-no question "
        "about it written as 'Question: ...'."
    )
    finding = repeats_instructions(echo, checks.instructions, checks.output_format)
    assert finding is not None and finding.reason == "repeats_instructions"


@pytest.mark.parametrize(
    "text",
    [  # the embedded instructor, lease_yes_no at n = 30 (2026-12-03): each kept by the vote
        "The lease clause written as 'Clause: No responsibilities are owed to the tenant', then "
        "on a new line a yes-or-no question about it written as 'Question: Is it true that the "
        "tenant is responsible for paying the property tax?'",
        "The lease clause written as 'Clause: This property will be rented to the tenant for a "
        "period of one year starting from the date of signing the lease', then on a new line a "
        "yes-or-no question about it written as 'Question: Is the property rented to the tenant "
        "for more than one year?'.",
        "The lease clause written as 'Clause: The landlord agrees to lease the property to the "
        "tenant for a term of three years' and on a new line a yes-or-no question about it "
        "written as 'Question: Is the property leased to the tenant for a term of three years?'",
    ],
)
def test_parts_wrapped_in_the_input_formats_wording(text: str) -> None:
    checks = InputChecks.for_task(LEASE)
    share_only = repeats_instructions(text, checks.instructions, checks.output_format)
    assert share_only is None  # real content keeps the 4-gram share below one half
    found = check_input(text, checks)
    assert found is not None and found.reason == "repeats_instructions"
    assert found.evidence.startswith("input format: ")


def test_parts_in_their_own_words_are_not_the_input_format() -> None:
    checks = InputChecks.for_task(LEASE)
    for text in [
        "Clause: The landlord agrees to pay property tax on the premises.\nQuestion: Does the "
        "landlord agree to pay property tax on the premises?",
        "Clause: The tenant shall pay rent on the first day of each month, as written in the "
        "schedule.\nQuestion: Is rent due on the fifteenth?",
    ]:
        assert check_input(text, checks) is None, text
    # a format with parts that quotes the text an input must start with (cfa's 'Read the
    # questions ...' before 'Q:[...] CHOICES:') is not an echo when an input starts with it ...
    cfa = (
        "Follow this format: Read the questions and answers carefully, and choose the one you "
        "think is appropriate among the three options A, B and C.' then Q:[Your question here] "
        "CHOICES: A: ...,B: ...,C: ..."
    )
    parts = input_parts(cfa, "ABC")
    assert parts == ["Q", "CHOICES"]
    genuine = (
        "Read the questions and answers carefully, and choose the one you think is appropriate "
        "among the three options A, B and C. Q: A bond's yield rises from 4% to 5%. What happens "
        "to its price? CHOICES: A: It rises, B: It falls, C: It stays the same"
    )
    assert format_wording(genuine, cfa, parts) == ""
    # ... and one that keeps the placeholder's words before a part is
    echo = "Q: What happens to a bond's price? Your question here CHOICES: A: up, B: down, C: same"
    assert format_wording(echo, cfa, parts) == "your question here"
    # option letters are articles too: "options labeled A" in a format is not a part's wording
    logiqa = "A context labeled 'Context:', a question and four options labeled A, B, C, and D."
    assert format_wording("Which of these is a bird? A. owl", logiqa, ["A", "B"]) == ""


def test_an_input_that_carries_the_output_format() -> None:
    gsm8k_output = "Let's think step by step and output the final answer after ####."
    text = (
        "Sara buys 3 packs of 12 pencils and gives away 7. How many are left? Let's think "
        "step by step and output the final answer after ####."
    )
    found = repeats_instructions(text, [], gsm8k_output)
    assert found is not None and "output format" in found.evidence
    good = "Sara buys 3 packs of 12 pencils and gives away 7. How many are left?"
    assert repeats_instructions(good, ["Solve grade-school math problems."], gsm8k_output) is None


# --- labelled parts ---------------------------------------------------------------------------


def test_parts_named_by_input_formats() -> None:
    assert input_parts(LEASE.input_format) == ["Clause", "Question"]
    assert input_parts(REVIEW.input_format) == []
    assert input_parts("a context passage labeled 'Context:', a question labeled 'Question:'") == [
        "Context",
        "Question",
    ]
    assert input_parts("Follow this format: Q:[question] CHOICES: A: ...,B: ...", "AB") == [
        "Q",
        "CHOICES",
    ]
    assert input_parts("It includes details like: age, sex. Note: be brief.") == []


def test_a_missing_or_empty_part() -> None:
    parts = ("Clause", "Question")
    good = "Clause: The tenant pays rent on the first of each month.\nQuestion: Is rent monthly?"
    assert missing_part(good, parts) is None
    assert (
        missing_part("**Clause:** Rent is due monthly.\n**Question:** Is it due weekly?", parts)
        is None
    )
    no_question = "Clause: The landlord may enter the unit with 24 hours notice to the tenant."
    assert missing_part(no_question, parts).evidence == "Question: absent"
    empty = "Clause: [insert clause]\nQuestion: Can the landlord enter without notice?"
    assert missing_part(empty, parts).evidence == "Clause: empty"


def test_choice_options_must_all_be_there() -> None:
    full = "Which planet is largest?\nA. Mars\nB. Jupiter\nC. Venus\nD. Mercury"
    assert missing_part(full, (), "ABCD") is None
    assert (
        missing_part(
            "Which planet is largest? (A) Mars (B) Jupiter (C) Venus (D) Earth", (), "ABCD"
        )
        is None
    )
    three = "Which planet is largest?\nA. Mars\nB. Jupiter\nC. Venus"
    assert missing_part(three, (), "ABCD").evidence == "option D: absent"
    assert missing_part("Which planet is largest?", (), "ABCD") is not None


def test_near_empty_inputs() -> None:
    assert near_empty_input("Clause: ...\nQuestion: ...", ("Clause", "Question")) is not None
    assert near_empty_input("[review text]") is not None
    assert near_empty_input("Compute 3^4.") is None


# --- the checks together, and as the stages apply them ---------------------------------------


def test_check_input_order_and_skip() -> None:
    text = "<think>plan</think> Overall, this is a positive review."
    checks = InputChecks.for_task(REVIEW)
    assert check_input(text, checks).reason == "reasoning_in_input"
    skipped = InputChecks.for_task(REVIEW, skip=["reasoning_in_input"])
    assert check_input(text, skipped).reason == "states_own_answer"
    assert set(CHECKS) >= {"reasoning_in_input", "drifted_from_parent"}


def bag_of_words(texts: Sequence[str]) -> np.ndarray:
    """A stand-in embedder: unit-length word-count vectors."""
    vocab = sorted({w for t in texts for w in t.lower().split()})
    rows = np.array([[t.lower().split().count(w) for w in vocab] for t in texts], dtype=float)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_drift_is_measured_against_the_parent() -> None:
    parent = "the tenant pays the rent on the first day of the month"
    close = "the tenant pays the rent and a late fee on the fifth day of the month"
    far = "photosynthesis converts light into chemical energy in plants"
    (sim_close, ok), (sim_far, found) = drift([close, far], [parent, parent], bag_of_words, 0.3)
    assert ok is None and sim_close > 0.6
    assert found is not None and found.reason == "drifted_from_parent" and sim_far < 0.3


def test_quality_filter_drops_with_reasons_and_evidence() -> None:
    good = "Clause: The tenant pays rent on the first of each month.\nQuestion: Is rent monthly?"
    harder = (
        "Clause: The tenant pays rent on the first day of each month and a late fee of 50 "
        "dollars after the fifth day.\nQuestion: Is a late fee due when rent is paid on the third?"
    )
    new = [
        {"id": "g00001", "input": "Clause: Pets are not allowed in the unit.", "parent": None},
        {"id": "h-g00000", "input": harder, "parent": "g00000"},
        {
            "id": "e-g00000",
            "input": "Clause: Plants use light.\nQuestion: Do plants use light?",
            "parent": "g00000",
        },
    ]
    existing = [{"id": "g00000", "input": good, "parent": None}]
    cfg = QualityConfig()
    kept, dropped = quality_filter(new, existing, cfg, task=LEASE, embed=bag_of_words)
    assert [s["id"] for s in kept] == ["h-g00000"] and kept[0]["parent_similarity"] > 0.3
    reasons = {d["id"]: (d["reason"], d.get("evidence")) for d in dropped}
    assert reasons["g00001"] == ("missing_part", "Question: absent")
    assert reasons["e-g00000"][0] == "drifted_from_parent"
    assert [d["match"] for d in dropped if d["id"] == "e-g00000"] == ["g00000"]
    assert "parent_similarity" not in new[1]  # the caller's rows are not changed
    off = QualityConfig(skip_checks=["missing_part"], min_parent_similarity=0)
    kept_off, _ = quality_filter(new, existing, off, task=LEASE)
    assert [s["id"] for s in kept_off] == ["g00001", "h-g00000", "e-g00000"]
