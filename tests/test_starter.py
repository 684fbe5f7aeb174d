"""Shipped package data and `synthrl init`: the example task files and their fallback
evaluation data are read from the package (importlib.resources), so a wheel works on its own;
`init --from` copies an example whose data paths still resolve; `init --describe` writes what the
instructor drafted (scripted fake here) as a valid task file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthrl.errors import SynthRLError
from synthrl.evaluate.loaders import task_items
from synthrl.llm import LLM, Ledger
from synthrl.llm.fake import FakeBackend
from synthrl.shipped import data_dir, example_task, example_tasks
from synthrl.starter import from_description, from_example, write_starter
from synthrl.task import load_task
from tests.conftest import EXAMPLES, REPO


def test_examples_ship_inside_the_package() -> None:
    assert data_dir().is_relative_to(REPO / "src" / "synthrl")  # package data, not the checkout
    names = set(example_tasks())
    assert {"gsm8k", "logiqa", "math", "medqa"} <= names
    assert names == {p.stem for p in EXAMPLES.glob("*.yaml")}  # examples/tasks is the same files
    assert (data_dir() / "eval" / "arithmetic-mini.jsonl").is_file()
    with pytest.raises(SynthRLError, match=r"choose one of: .*gsm8k"):
        example_task("nope")


def test_pyproject_ships_the_data() -> None:
    """The wheel's package-data globs match every shipped file (what setuptools packs)."""
    import tomllib

    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["synthrl"]
    shipped = {str(p.relative_to(data_dir().parent)) for p in data_dir().rglob("*") if p.is_file()}
    matched = {
        str(p.relative_to(data_dir().parent)) for g in globs for p in data_dir().parent.glob(g)
    }
    assert shipped and shipped <= matched


def test_init_from_an_example_keeps_its_fallback_data(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SYNTHRL_BENCHMARKS", str(tmp_path / "absent"))  # as from a wheel:
    monkeypatch.setattr("synthrl.evaluate.loaders.REPO", tmp_path / "x" / "y")  # no ../shared
    monkeypatch.chdir(tmp_path)
    task = write_starter(tmp_path / "elsewhere" / "demo.yaml", from_example("demo", "gsm8k"))
    assert task.name == "demo" and task.answer.kind == "number"
    items, source = task_items(task)
    assert len(items) == 20 and "arithmetic-mini" in source
    with pytest.raises(SynthRLError, match="exists"):
        write_starter(tmp_path / "elsewhere" / "demo.yaml", "x")


def test_init_cli(tmp_path: Path, monkeypatch) -> None:
    from synthrl.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["init", "demo", "--from", "logiqa"])
    assert result.exit_code == 0, result.output
    assert load_task(tmp_path / "demo.yaml").answer.kind == "choice"
    assert CliRunner().invoke(app, ["validate", "demo.yaml"]).exit_code == 0
    version = CliRunner().invoke(app, ["--version"])
    assert version.exit_code == 0 and version.output.startswith("synthrl ")


def test_init_from_a_description(tmp_path: Path) -> None:
    reply = (
        'Sure: {"description": "Decide whether a clause in a consumer contract is unfair to the '
        'consumer.", "input_format": "One contract clause.", "output_format": "Answer Yes or '
        'No at the end.", "answer_kind": "yes_no"}'
    )
    llm = LLM(FakeBackend().enqueue(reply), None, Ledger(), "fake", False)
    text = from_description("clauses", "unfair clauses in consumer contracts", llm)
    task = write_starter(tmp_path / "clauses.yaml", text)
    assert task.answer.kind == "yes_no" and "unfair" in task.description
    assert text.startswith("# Written by `synthrl init`")
    bad = LLM(FakeBackend().enqueue("no idea"), None, Ledger(), "fake", False)
    with pytest.raises(SynthRLError, match="held no JSON task definition"):
        from_description("x", "something", bad)
