"""Numbers right to the task's precision (issue 21): `answer: {kind: number, tolerance: ...}` or
`decimals: ...` in the task file, applied by the one checker in every stage: the vote, the probe
and the score (through `Task.checker_options`), the GRPO reward (TRL columns, veRL extra_info)
and the evaluation."""

from __future__ import annotations

import pytest

from synthrl.answers import (
    AnswerOptionError,
    compute_score,
    judge,
    judge_many,
    make_reward_fn,
    parse_cli_options,
    vote_answers,
)
from synthrl.errors import TaskFileError
from synthrl.evaluate.loaders import EvalItem
from synthrl.evaluate.runner import options_for
from synthrl.task import load_task
from synthrl.train.data import grpo_row
from synthrl.train.verl import verl_rows

MILES = """\
name: miles
description: Convert distances between miles and kilometres, step by step.
output_format: "Give the final number after ####."
answer: {{kind: number{extra}}}
"""
GOLD = "1.60934"  # 1 mile in km: the base model answered 1.609 and 1.6


def miles_task(write_task, extra: str):
    return load_task(write_task(MILES.format(extra=extra)))


def test_exact_comparison_stays_the_default(write_task) -> None:
    task = miles_task(write_task, "")
    opts = task.checker_options("How many km is 1 mile?")
    assert opts == {}
    assert not judge("#### 1.609", GOLD, "number", **opts)
    assert judge("#### 1.60934", GOLD, "number", **opts)


def test_relative_tolerance_from_the_task_file(write_task) -> None:
    task = miles_task(write_task, ", tolerance: 0.001")
    opts = task.checker_options("How many km is 1 mile?")
    assert opts == {"rel_tol": 0.001}
    assert judge("#### 1.609", GOLD, "number", **opts)  # 0.02% off
    assert not judge("#### 1.6", GOLD, "number", **opts)  # 0.6% off
    assert judge_many(["#### 1.609", "#### 1.6", "#### 1.61"], GOLD, "number", **opts) == [
        True,
        False,
        True,
    ]


def test_decimals_from_the_task_file(write_task) -> None:
    two = miles_task(write_task, ", decimals: 2").checker_options("")
    assert two == {"decimals": 2}
    assert judge("#### 1.61", GOLD, "number", **two)  # the gold rounded always passes
    assert judge("#### 1.609", GOLD, "number", **two)
    assert not judge("#### 1.6", GOLD, "number", **two)  # 0.0093 > half of 0.01
    one = miles_task(write_task, ", decimals: 1").checker_options("")
    assert judge("#### 1.6", GOLD, "number", **one)
    # Compared exactly: 2.675 is within half a unit (0.005) of 2.67, and 2.6749 of 2.67 too.
    assert judge("#### 2.67", "2.675", "number", **two)
    assert not judge("#### 2.669", "2.675", "number", **two)
    zero = miles_task(write_task, ", decimals: 0").checker_options("")
    assert judge("#### 3", "2.5", "number", **zero) and not judge("#### 4", "2.6", "number", **zero)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (", tolerance: 0.01, decimals: 2", "not both"),
        (", tolerance: 0", "greater than 0"),
        (", decimals: -1", "greater than or equal to 0"),
    ],
)
def test_bad_precision_is_explained(write_task, extra: str, message: str) -> None:
    with pytest.raises(TaskFileError, match=message):
        miles_task(write_task, extra)


def test_precision_applies_to_number_tasks_only(write_task) -> None:
    text = MILES.replace("kind: number{extra}", "kind: math, decimals: 2")
    with pytest.raises(TaskFileError, match="'number' only"):
        load_task(write_task(text.format()))


def test_checker_rejects_malformed_precision_options() -> None:
    with pytest.raises(AnswerOptionError, match="decimals"):
        judge("#### 1", "1", "number", decimals=1.5)
    with pytest.raises(AnswerOptionError, match="rel_tol"):
        judge("#### 1", "1", "number", rel_tol=2)
    with pytest.raises(AnswerOptionError, match="unknown option"):
        judge("#### 1", "1", "math", decimals=2)
    assert parse_cli_options("number", ["decimals=2"]) == {"decimals": 2}


def test_the_vote_groups_answers_within_the_precision(write_task) -> None:
    answers = ["1.609", "1.6093", "1.61", "1.5"]
    exact = vote_answers(answers, "number", 0.5)
    assert not exact.accepted and exact.votes == 1
    opts = miles_task(write_task, ", decimals: 2").checker_options("")
    vote = vote_answers(answers, "number", 0.5, **opts)
    assert vote.accepted and vote.votes == 3 and vote.agreement == 0.75


def test_reward_and_training_rows_carry_the_precision(write_task) -> None:
    task = miles_task(write_task, ", decimals: 2")
    row = grpo_row(task, "How many km is 1 mile?", GOLD)
    assert row["decimals"] == 2 and "rel_tol" not in row
    reward = make_reward_fn(format_weight=0)
    columns = {"kind": [row["kind"]] * 2, "decimals": [row["decimals"]] * 2}
    assert reward(["#### 1.609", "#### 1.6"], answer=[GOLD] * 2, **columns) == [1.0, 0.0]
    (verl,) = verl_rows("miles", [row], ["g0"], format_weight=0.0)
    assert verl["extra_info"]["decimals"] == 2
    info = verl["extra_info"]
    assert compute_score(verl["data_source"], "#### 1.609", GOLD, info) == 1.0
    tolerant = grpo_row(miles_task(write_task, ", tolerance: 0.001"), "1 mile?", GOLD)
    assert tolerant["rel_tol"] == 0.001
    assert reward(["#### 1.609"], answer=[GOLD], kind=["number"], rel_tol=[0.001]) == [1.0]


def test_evaluation_uses_the_tasks_precision(write_task) -> None:
    task = miles_task(write_task, ", tolerance: 0.001")
    item = EvalItem(id="1", input="How many km is 1 mile?", answer=GOLD)
    assert judge("#### 1.609", GOLD, "number", **options_for(item, task))
