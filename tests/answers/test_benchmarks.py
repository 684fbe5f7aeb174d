"""The checker on real benchmark data (read in place from ../shared/benchmarks, never copied).

Every GSM8K and MATH-500 gold answer is extracted from its own reference solution and judged
equal to the dataset's answer; LogiQA and MedQA gold letters round-trip through `<answer>` tags
and through their option text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from synthrl.answers import extract, follows_format, judge, judge_many, mathpool
from synthrl.answers.choices import normalize_text

BENCHMARKS = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"

pytestmark = pytest.mark.skipif(not BENCHMARKS.is_dir(), reason=f"no benchmarks at {BENCHMARKS}")


def _rows(name: str) -> list[dict[str, Any]]:
    with open(BENCHMARKS / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.mark.parametrize("split", ["test", "train"])
def test_gsm8k_gold_from_solution(split: str) -> None:
    rows = _rows(f"gsm8k/{split}.jsonl")
    solutions = [row["answer"] for row in rows]
    golds = [s.split("#### ")[-1].strip() for s in solutions]
    verdicts = judge_many(solutions, golds, "number")
    failures = [(g, s[-60:]) for g, s, ok in zip(golds, solutions, verdicts, strict=True) if not ok]
    assert not failures, failures[:10]
    assert all(follows_format(s, "number") for s in solutions)
    # a wrong gold is rejected (guards against an always-True checker)
    wrong = [str(int(g.replace(",", "")) + 1) for g in golds[:200]]
    assert not any(judge_many(solutions[:200], wrong, "number"))


def test_math500_gold_from_solution() -> None:
    rows = _rows("math500/test.jsonl")
    solutions = [row["solution"] for row in rows]
    answers = [row["answer"] for row in rows]
    verdicts = judge_many(solutions, answers, "math")
    failures = [
        (extract(s, "math"), a)
        for s, a, ok in zip(solutions, answers, verdicts, strict=True)
        if not ok
    ]
    assert not failures, failures[:10]
    assert all(follows_format(s, "math") for s in solutions)


def test_math500_through_math_verify() -> None:
    """The same pairs with the fast path bypassed: math-verify in the pool agrees on all 500."""
    rows = _rows("math500/test.jsonl")
    pairs = [(extract(row["solution"], "math") or "", row["answer"]) for row in rows]
    verdicts = mathpool.run(pairs, timeout=10)
    assert [p for p, ok in zip(pairs, verdicts, strict=True) if not ok] == []


def _text_is_ambiguous(options: dict[str, str], letter: str) -> bool:
    """Dataset rows whose gold option text cannot name one letter: a duplicated option text
    (LogiQA translation artefacts) or an option text that is itself a letter (MedQA)."""
    text = normalize_text(options[letter])  # eval 63: options are "a".."d"; medqa 709: "B".."E"
    same = [k for k, v in options.items() if normalize_text(v) == text]
    return len(same) > 1 or text.upper() in options


def _choice_round_trip(rows: list[dict[str, Any]], letter_field: str) -> tuple[list, list]:
    """Problems found when the gold letter goes through tags, option text and a wrong letter."""
    problems, skipped = [], []
    for n, row in enumerate(rows):
        letter, options = row[letter_field], row["options"]
        wrong = next(x for x in "ABCD" if x != letter)
        checks = {
            "tag": judge(f"<think>...</think> <answer>{letter}</answer>", letter, "choice"),
            "paren": judge(f"Reasoning.\nThe answer is ({letter}).", letter, "choice"),
            "wrong": not judge(f"<answer>{wrong}</answer>", letter, "choice", options=options),
            "strict": follows_format(f"<answer>{letter}</answer>", "choice"),
        }
        if _text_is_ambiguous(options, letter):
            skipped.append(n)
        else:
            text = options[letter]
            checks["text"] = judge(f"<answer>{text}</answer>", letter, "choice", options=options)
            checks["text_is"] = judge(
                f"So the answer is: {text}", letter, "choice", options=options
            )
        problems += [f"row {n}: {name}" for name, ok in checks.items() if not ok]
    return problems, skipped


@pytest.mark.parametrize("split", ["test", "eval"])
def test_logiqa_letters_round_trip(split: str) -> None:
    problems, skipped = _choice_round_trip(_rows(f"logiqa/{split}.jsonl"), "answer")
    assert problems == []
    assert skipped == {"test": [], "eval": [63, 163, 204, 564]}[split]


def test_medqa_letters_round_trip() -> None:
    rows = _rows("medqa/test.jsonl")
    problems, skipped = _choice_round_trip(rows, "answer_idx")
    assert problems == []
    assert skipped == [709]  # options are the letters B, C, D, E themselves
    # the dataset's gold *text* maps back to its letter
    for row in rows:
        if _text_is_ambiguous(row["options"], row["answer_idx"]):
            continue
        completion = f"<answer>{row['answer_idx']}</answer>"
        assert judge(completion, row["answer"], "choice", options=row["options"]), row["answer"]
