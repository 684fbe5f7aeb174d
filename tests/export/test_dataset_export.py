"""`synthrl export dataset`: the selected set as TRL-ready rows and the other stages as further
configs, loaded back with `datasets.load_dataset(folder)`, with a card that states the task,
models, counts, drops, pass rates, the contamination check and the passages' licence. And the
model card in train/model/, which stage fingerprints ignore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from synthrl.artifacts import RunDir, write_json
from synthrl.export.cards import write_model_card
from synthrl.export.dataset import export_dataset
from synthrl.fingerprint import folder_digest
from synthrl.llm.registry import weights_tag
from synthrl.run import run_task
from tests.fakes import PASSAGES
from tests.stages.test_synthesis import TASK
from tests.test_run_budget import Spy, options


@pytest.fixture(scope="module")
def selected_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run to `select` on the scripted fakes (once for the module)."""
    tmp_path = tmp_path_factory.mktemp("export")
    library = tmp_path / "passages.jsonl"
    library.write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
    task_file = tmp_path / "task.yaml"
    task_file.write_text(TASK.format(library=library, demos=""))
    opts = options(task_file, tmp_path / "run", "select.m=2", "score.samples=6")
    opts.stop = "select"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("synthrl.run.open_llm", Spy().open_llm)
        run_task(opts, Console(file=open(tmp_path / "out.txt", "w")), False)  # noqa: SIM115
    return tmp_path / "run"


def test_dataset_loads_back_with_a_card(selected_run: Path) -> None:
    import datasets

    written = export_dataset(selected_run)
    folder = written["card"].parent
    assert folder == selected_run / "export" / "dataset"
    selected = datasets.load_dataset(str(folder), split="train")
    assert len(selected) == 2
    row = selected[0]
    assert row["answer_kind"] == "number" and row["answer"]
    assert [m["role"] for m in row["prompt"]][-1] == "user"  # chat messages, as TRL takes them
    assert {"id", "origin", "pass_rate", "score"} <= set(selected.column_names)
    verified = datasets.load_dataset(str(folder), "verified", split="train")
    assert len(verified) >= 2 and isinstance(verified[0]["answers"], str)  # nested -> JSON text
    card = written["card"].read_text()
    assert card.startswith("---\n") and "config_name: selected" in card
    for part in (
        "## Task definition",
        "Solve short arithmetic word problems",
        "instructor: `embedded:instructor`",
        "| verify |",
        "## Pass rates",
        "## Contamination check",
        "## Passages used",
    ):
        assert part in card, part


def test_model_card_is_not_content(selected_run: Path) -> None:
    run = RunDir(selected_run)
    model = run.stage_dir("train") / "model"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    write_json(run.stage_dir("train") / "summary.json", {"steps": 3, "base": "/w/base-hf"})
    run.finish("train", {"counts": {"rows": 2, "steps": 3}})
    results = {
        "base": {"items": 20, "strict_mean": 0.1, "strict_wilson": [0.03, 0.3]},
        "trained": {"items": 20, "strict_mean": 0.4, "strict_wilson": [0.2, 0.6]},
        "comparison": {"strict": {"wins": 6, "losses": 0}},
        "source": "benchmark gsm8k",
    }
    run.stage_dir("evaluate").mkdir()
    write_json(run.stage_dir("evaluate") / "results.json", results)
    run.finish("evaluate", {"counts": {"items": 20}})
    before = (folder_digest(run.stage_dir("train")), weights_tag(model))
    card = write_model_card(run).read_text()
    assert "base_model: /w/base-hf" in card and "| trained | 40.0% | 20.0%-60.0%" in card
    assert "learning_rate" in card and "## Task definition" in card
    assert (folder_digest(run.stage_dir("train")), weights_tag(model)) == before
    json.loads((selected_run / "run.json").read_text())  # the run is intact


def test_card_says_no_passages_were_used_without_retrieval(write_task) -> None:
    from synthrl.config import resolve_config
    from synthrl.export.cards import passages_section
    from synthrl.task import load_task
    from tests.conftest import GOOD_TASK

    task = load_task(write_task(GOOD_TASK))
    assert "grounded in passages of" in passages_section(task, resolve_config("cpu"))
    off = passages_section(task, resolve_config("cpu", overrides={"retrieve": {"enabled": False}}))
    assert "None: retrieval was off" in off and "grounded" not in off
