"""Position-debiased votes for choice tasks (`verify.permute_options`): vote j sees the options
rotated by j and its letter is mapped back, so a voter that always picks one position cannot
elect it, while a voter that picks the right option text keeps its label."""

from __future__ import annotations

import re
from functools import partial

import pytest

from synthrl.config import resolve_config
from synthrl.llm import LLM, CallCache, Ledger
from synthrl.llm.fake import FakeBackend
from synthrl.synthesis.permute import (
    option_spans,
    original_letter,
    place_answer,
    rotated_input,
    rotates,
)
from synthrl.synthesis.votes import verify_samples
from synthrl.task import load_task
from tests.conftest import REPO

QUESTION = "Which gas do plants take in?\nA. Oxygen\nB. Carbon dioxide\nC. Helium\nD. Neon"
OPTIONS = dict(re.findall(r"^([A-D])\. (.+)$", QUESTION, re.MULTILINE))


@pytest.mark.parametrize("shift", range(6))
def test_a_rotated_letter_maps_back_to_the_same_option_text(shift: int) -> None:
    rotated = rotated_input(QUESTION, "ABCD", shift)
    shown = dict(re.findall(r"^([A-D])\. (.+)$", rotated, re.MULTILINE))
    assert sorted(shown.values()) == sorted(OPTIONS.values())
    assert rotated.splitlines()[0] == QUESTION.splitlines()[0]
    for letter, text in shown.items():
        assert OPTIONS[original_letter(letter, "ABCD", shift)] == text
    assert (rotated == QUESTION) == (shift % 4 == 0)


def test_inputs_whose_options_cannot_all_be_found_are_left_as_written() -> None:
    partial_options = "Pick one:\nA. x\nB. y\nD. z"
    assert not rotates(partial_options, "ABCD")
    assert rotated_input(partial_options, "ABCD", 1) == partial_options
    assert original_letter(None, "ABCD", 2) is None


def _verify(voter, permute: bool, cache: CallCache | None = None) -> tuple[list, list, FakeBackend]:
    task = load_task(REPO / "tests" / "e2e" / "tasks" / "science_choice.yaml")
    config = resolve_config(
        "cpu", overrides={"verify": {"k": 4, "adaptive": False, "permute_options": permute}}
    )
    backend = FakeBackend(responder=voter)
    llm = LLM(backend, cache, Ledger(), "fake", show_progress=False)
    samples = [{"id": "s0", "input": QUESTION, "output": "<answer>B</answer>"}]
    kept, dropped = verify_samples(
        partial(llm.generate, stage="verify"), task, config.verify, 0, samples
    )
    return kept, dropped, backend


def _letter_of(request, text: str) -> str:
    prompt = request.messages[-1][1]
    return re.search(rf"^([A-D])\. {re.escape(text)}$", prompt, re.MULTILINE).group(1)


def test_a_voter_that_always_answers_a_cannot_elect_a() -> None:
    def always_a(request, index: int) -> str:
        return "Plants need it. <answer>A</answer>"

    kept, _, _ = _verify(always_a, permute=False)
    assert [s["label"] for s in kept] == ["A"]  # as written, the bias wins the vote
    kept, dropped, backend = _verify(always_a, permute=True)
    assert kept == [] and dropped[0]["reason"] == "low_agreement"
    assert dropped[0]["answers"] == ["A", "B", "C", "D"]
    assert [r.first_sample for r in backend.calls] == [0, 1, 2, 3]
    assert all(r.n == 1 for r in backend.calls)


def test_a_voter_that_finds_the_right_option_keeps_its_label(tmp_path) -> None:
    def knows(request, index: int) -> str:
        return f"Photosynthesis. <answer>{_letter_of(request, 'Carbon dioxide')}</answer>"

    cache = CallCache(tmp_path / "c.sqlite")
    kept, _, backend = _verify(knows, permute=True, cache=cache)
    assert [s["label"] for s in kept] == ["B"] and kept[0]["answers"] == ["B"] * 4
    assert kept[0]["reference"].endswith("<answer>B</answer>")  # a vote on the options as written
    shown = {_letter_of(r, "Carbon dioxide") for r in backend.calls}
    assert shown == {"A", "B", "C", "D"}  # the right option was shown at every position
    _, _, again = _verify(knows, permute=True, cache=cache)
    assert again.calls == []  # each rotated vote is cached by its index


INLINE = (
    "Which is true of vitamin A. Pick one. A. Stars shine. B. Moons glow. C. Rocks fly. "
    "D. Ice burns."
)


def test_options_written_on_one_line_are_found_and_rotated() -> None:
    assert rotates(INLINE, "ABCD")  # the 'A.' of 'vitamin A.' is not the first option
    rotated = rotated_input(INLINE, "ABCD", 1)
    assert rotated == (
        "Which is true of vitamin A. Pick one. A. Moons glow. B. Rocks fly. C. Ice burns. "
        "D. Stars shine."
    )


@pytest.mark.parametrize("text", [QUESTION, INLINE])
def test_placing_the_answer_moves_its_option_to_the_target_letter(text: str) -> None:
    letters = "ABCD"
    sample = {
        "id": "s",
        "input": text,
        "label": "A",
        "target": "C",
        "output": "o",
        "reference": "r",
    }
    placed = place_answer(sample, letters)
    assert placed["label"] == "C" and placed["before_placement"]["label"] == "A"
    assert placed["before_placement"]["input"] == text
    assert placed["output"] == placed["reference"] == ""
    spans = option_spans(placed["input"], letters)
    shown = [placed["input"][a:b] for a, b in spans]
    before = [text[a:b] for a, b in option_spans(text, letters)]
    assert shown[2] == before[0] and shown[0] == before[2]  # swapped, the others in place
    assert shown[1] == before[1] and shown[3] == before[3]


def test_nothing_moves_without_a_target_or_when_the_answer_is_already_there() -> None:
    sample = {"id": "s", "input": QUESTION, "label": "B", "target": "B"}
    assert place_answer(sample, "ABCD") is sample
    assert place_answer({**sample, "target": None}, "ABCD")["label"] == "B"
    unreadable = {"id": "s", "input": "A. x B. y", "label": "A", "target": "C"}
    assert place_answer(unreadable, "ABCD") is unreadable
