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
    assert source.startswith("fallback ") and "arithmetic-mini.jsonl" in source
    assert [i.answer for i in items] == ["7", "108", "9"]
    # Without a fallback the missing data is a clear error.
    task = task.model_copy(update={"evaluation": EvaluationSpec(benchmark="gsm8k")})
    with pytest.raises(SynthRLError, match="benchmark data not found"):
        task_items(task, 3)


def test_parquet_loader_and_options_as_a_mapping(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "own.parquet"
    rows = [{"question": "Which is a fruit?", "opts": {"A": "stone", "B": "apple"}, "gold": "B"}]
    pq.write_table(pa.Table.from_pylist(rows), path)
    (item,) = load_items(str(path), {"question": "question", "options": "opts", "answer": "gold"})
    assert item.options == {"A": "stone", "B": "apple"} and "B. apple" in item.input
    assert item.answer == "B" and item.id == "0"
    # options kept as a JSON string (CSV-born files): parsed; anything else: a clear error
    rows = [{"question": "Pick one", "opts": '["red", "blue"]', "gold": "A"}]
    pq.write_table(pa.Table.from_pylist(rows), path)
    (item,) = load_items(str(path), {"question": "question", "options": "opts", "answer": "gold"})
    assert item.options == {"A": "red", "B": "blue"}
    rows = [{"question": "Pick one", "opts": "red or blue", "gold": "A"}]
    pq.write_table(pa.Table.from_pylist(rows), path)
    with pytest.raises(SynthRLError, match="neither a list, a mapping nor JSON"):
        load_items(str(path), {"question": "question", "options": "opts", "answer": "gold"})


def test_sampled_runs_pool_every_seed() -> None:
    """Three sampled runs over two items: per-item shares, an interval around the mean, and
    wins/losses by majority of runs (not by the first seed alone)."""
    from synthrl.evaluate.compare import compare
    from synthrl.evaluate.loaders import EvalItem
    from synthrl.evaluate.runner import summarise

    task = load_task(EXAMPLES / "gsm8k.yaml")
    items = [EvalItem("a", "1 + 1?", "2"), EvalItem("b", "2 + 2?", "4")]

    def runs(a: list[bool], b: list[bool]) -> list[dict]:
        return [
            {"seed": s, "texts": ["#### 2", "#### 4"], "lenient": [x, y], "strict": [x, y]}
            for s, (x, y) in enumerate(zip(a, b, strict=True))
        ]

    base = summarise(items, ["2", "4"], runs([True, False, False], [False, False, False]), task)
    trained = summarise(items, ["2", "4"], runs([True, False, False], [True, True, False]), task)
    assert base["strict_by_item"] == pytest.approx([1 / 3, 0.0])
    assert trained["strict_by_item"] == pytest.approx([1 / 3, 2 / 3])
    assert trained["strict_mean"] == pytest.approx(0.5)
    low, high = trained["strict_wilson"]
    assert low < 0.5 < high and (low, high) == pytest.approx(wilson(1, 2))
    c = compare(base, trained)["strict"]
    # item b: right in 2 of 3 trained runs, 0 of 3 base runs -> a win; item a: a tie
    assert (c["wins"], c["losses"]) == (1, 0)
    assert len(base["predictions"]) == 6  # every seed's completion is kept


def test_weights_tag_changes_when_the_weights_do(tmp_path: Path) -> None:
    import os

    from synthrl.llm.registry import weights_tag

    (tmp_path / "model.safetensors").write_bytes(b"a" * 10)
    first = weights_tag(tmp_path)
    assert first.startswith("@") and weights_tag(tmp_path) == first
    os.utime(tmp_path / "model.safetensors", ns=(1, 1))
    assert weights_tag(tmp_path) != first
    assert weights_tag("Qwen/Qwen2.5-7B") == ""  # a hub id: nothing on disk to tag
