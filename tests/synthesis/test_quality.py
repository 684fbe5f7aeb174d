from pathlib import Path

import pytest

from synthrl.errors import SynthRLError
from synthrl.synthesis.quality import decontaminate, deduplicate, normalize_words, read_eval_texts
from tests.conftest import BENCHMARKS

BASE = (
    "A baker makes 24 muffins every morning and sells them at the market for 3 dollars each. "
    "On Saturday she sold all but 5 of them. How much money did she make on Saturday?"
)


def test_normalize_ignores_case_punctuation_and_spacing() -> None:
    assert normalize_words("  Hello,   WORLD!\n it's_ok ") == ["hello", "world", "it", "s", "ok"]


def test_exact_duplicates_after_normalisation() -> None:
    items = [BASE, BASE.upper().replace(" ", "  "), BASE.replace("?", " ?!"), "Something else."]
    result = deduplicate(items)
    assert result.kept == [0, 3]
    assert [(d.index, d.match, d.reason) for d in result.dropped] == [
        (1, 0, "exact_duplicate"),
        (2, 0, "exact_duplicate"),
    ]
    assert result.counts() == {"kept": 2, "exact_duplicate": 2}


def test_near_duplicates_are_dropped_and_distinct_questions_kept() -> None:
    near = BASE.replace("morning", "day")  # one word changed in 33
    other_numbers = BASE.replace("24", "36").replace("3 dollars", "4 dollars")
    different = (
        "A train leaves the station at 9 am travelling at 60 miles per hour. A second train "
        "leaves at 10 am at 80 miles per hour. When does the second train catch up?"
    )
    same_template = (
        "A baker bakes 12 loaves of bread a day. How many loaves does she bake in a week?"
    )
    samples = [{"input": s} for s in [BASE, near, different, other_numbers, same_template]]
    result = deduplicate(samples, threshold=0.8)
    assert result.kept == [0, 2, 3, 4]
    (drop,) = result.dropped
    assert (drop.index, drop.match, drop.reason) == (1, 0, "near_duplicate")
    assert 0.8 <= drop.score < 1
    assert result.select(samples) == [samples[i] for i in (0, 2, 3, 4)]
    assert deduplicate(samples, threshold=0.5).kept == [0, 2, 4]  # looser: numbers-only change too


def test_dedup_keeps_first_and_reports_the_kept_match() -> None:
    items = ["a b c d e f g h i j", "x y z", "a b c d e f g h i k", "a b c d e f g h i j"]
    result = deduplicate(items, threshold=0.7)
    assert result.kept == [0, 1]
    assert {(d.index, d.match) for d in result.dropped} == {(2, 0), (3, 0)}
    with pytest.raises(ValueError, match="no field 'input'"):
        deduplicate([{"question": "x"}])


@pytest.fixture(scope="module")
def gsm8k_test() -> list[str]:
    return read_eval_texts(BENCHMARKS / "gsm8k" / "test.jsonl", "question")


def test_contamination_with_real_gsm8k(gsm8k_test: list[str]) -> None:
    assert len(gsm8k_test) == 1319
    janet = gsm8k_test[0]
    assert janet.startswith("Janet")
    verbatim = f"Here is a problem for you. {janet}"
    renamed = janet.replace("Janet", "Priya").replace("16 eggs", "20 eggs")
    fresh = (
        "Omar plants 7 rows of tomatoes with 12 plants in each row. A storm destroys a quarter "
        "of the plants. How many tomato plants are left?"
    )
    samples = [{"input": verbatim}, {"input": fresh}, {"input": renamed}, {"input": gsm8k_test[99]}]
    result = decontaminate(samples, gsm8k_test)
    assert result.kept == [1]
    assert [(d.index, d.match, d.reason) for d in result.dropped] == [
        (0, 0, "contamination"),
        (2, 0, "contamination"),
        (3, 99, "contamination"),
    ]
    assert len(result.dropped[1].evidence.split()) == 13
    assert result.dropped[2].score == 1.0 and all(0 < d.score <= 1 for d in result.dropped)


def test_short_evaluation_items_match_only_whole() -> None:
    evals = ["What is the capital city of France today?", "Yes or no?"]
    result = decontaminate(
        ["Tell me: what is the capital city of France today?", "Yes or no? Is it raining?"], evals
    )
    assert result.kept == [1] and result.dropped[0].match == 0


def test_read_eval_texts_fields_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_text('{"context": "C1", "question": "Q1"}\n\n{"context": "C2", "question": "Q2"}\n')
    assert read_eval_texts(path, "context+question") == ["C1\nQ1", "C2\nQ2"]
    assert read_eval_texts(path) == ["Q1", "Q2"]
    with pytest.raises(SynthRLError, match=r"eval.jsonl:1: no field 'problem' \(its fields"):
        read_eval_texts(path, ["problem"])
    other = tmp_path / "other.jsonl"
    other.write_text('{"a": 1}\n')
    with pytest.raises(SynthRLError, match="none of the usual question fields"):
        read_eval_texts(other)
    with pytest.raises(SynthRLError, match="no such file"):
        read_eval_texts(tmp_path / "missing.jsonl")
