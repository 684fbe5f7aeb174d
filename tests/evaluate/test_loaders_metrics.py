"""Evaluation loaders on the real benchmark files, gold extraction, and the interval arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthrl.errors import SynthRLError
from synthrl.evaluate import bootstrap_diff, load_benchmark, load_items, mcnemar, mean_std, wilson
from synthrl.evaluate.runner import gold_answer
from synthrl.task import load_task
from tests.conftest import EXAMPLES


@pytest.mark.parametrize(
    ("name", "rows"), [("gsm8k", 1319), ("math500", 500), ("logiqa", 651), ("medqa", 1273)]
)
def test_builtin_benchmarks_load_completely(name: str, rows: int, benchmarks: Path) -> None:
    items = load_benchmark(name)
    assert len(items) == rows
    assert all(item.input and item.answer for item in items)


def test_gold_answers(benchmarks: Path) -> None:
    gsm8k = load_task(EXAMPLES / "gsm8k.yaml")
    first = load_benchmark("gsm8k", limit=1)[0]
    assert gold_answer(first, gsm8k) == "18"
    logiqa = load_task(EXAMPLES / "logiqa.yaml")
    item = load_benchmark("logiqa", limit=1)[0]
    assert gold_answer(item, logiqa) == "A"
    assert item.input.startswith("Context: ") and "\nA. " in item.input and "\nD. " in item.input
    medqa = load_benchmark("medqa", limit=1)[0]
    assert medqa.answer == "B" and medqa.options["B"].startswith("Tell the attending")
    math = load_benchmark("math500", limit=1)[0]
    assert gold_answer(math, load_task(EXAMPLES / "math.yaml")) == math.answer


def test_generic_loader_with_field_mapping(tmp_path: Path) -> None:
    path = tmp_path / "own.jsonl"
    path.write_text(
        json.dumps({"q": "Is water wet?", "choices": ["yes", "no"], "gold": "A"}) + "\n"
    )
    items = load_items(str(path), {"question": "q", "options": "choices", "answer": "gold"})
    assert items[0].options == {"A": "yes", "B": "no"} and "A. yes" in items[0].input
    with pytest.raises(SynthRLError, match="no field 'question'"):
        load_items(str(path), {"question": "question", "answer": "gold"})
    with pytest.raises(SynthRLError, match="no such file"):
        load_items(str(tmp_path / "none.jsonl"), {"question": "q", "answer": "a"})


def test_wilson_interval_known_values() -> None:
    low, high = wilson(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) == (0.0, 0.0)


def test_mcnemar_and_bootstrap() -> None:
    base = [False] * 12 + [True] * 8
    trained = [True] * 12 + [True] * 8
    wins, losses, p = mcnemar(base, trained)
    assert (wins, losses) == (12, 0) and p == pytest.approx(2 * 0.5**12)
    low, high = bootstrap_diff(base, trained)
    assert 0.3 < low < 0.6 < high <= 0.85
    assert mcnemar(base, base) == (0, 0, 1.0)
    assert mean_std([0.5, 0.7, 0.6]) == (pytest.approx(0.6), pytest.approx(0.1))


def test_task_evaluation_falls_back_to_bundled_items_without_benchmarks(
    benchmarks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from synthrl.evaluate import loaders
    from synthrl.stages.evaluate import task_items
    from synthrl.task import EvaluationSpec

    task = load_task(EXAMPLES / "gsm8k.yaml")
    items, source = task_items(task, 3)  # type: ignore[misc]
    assert source == "benchmark gsm8k" and "#### 18" in items[0].answer
    # No ../shared/benchmarks anywhere: the task's bundled hand-written problems are used.
    monkeypatch.delenv("SYNTHRL_BENCHMARKS", raising=False)
    monkeypatch.setattr(loaders, "REPO", tmp_path / "repo")
    monkeypatch.chdir(tmp_path)
    items, source = task_items(task, 3)  # type: ignore[misc]
    assert source.endswith("arithmetic-mini.jsonl")
    assert [i.answer for i in items] == ["7", "108", "9"]
    # Without a fallback the missing data is a clear error.
    task = task.model_copy(update={"evaluation": EvaluationSpec(benchmark="gsm8k")})
    with pytest.raises(SynthRLError, match="benchmark data not found"):
        task_items(task, 3)
