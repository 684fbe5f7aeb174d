"""Task definitions: the shipped examples validate; each kind of bad file gets its own message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from synthrl.errors import TaskFileError
from synthrl.task import load_task
from tests.conftest import EXAMPLES, GOOD_TASK

PAPER_TASKS = {"gsm8k", "math", "gpqa", "logiqa", "medqa", "mednli", "cqa", "cfa"}
# The paper's eight, plus gsm8k-demos (two hand-written demos: the pattern stage runs).


def test_all_eight_paper_tasks_ship_and_validate() -> None:
    names = {p.stem for p in EXAMPLES.glob("*.yaml")}
    assert names >= PAPER_TASKS
    for name in PAPER_TASKS:
        task = load_task(EXAMPLES / f"{name}.yaml")
        assert task.name == name
        assert task.output_format


def test_example_answer_kinds() -> None:
    kinds = {name: load_task(EXAMPLES / f"{name}.yaml").answer.kind for name in PAPER_TASKS}
    assert kinds == {
        "gsm8k": "number",
        "math": "math",
        "gpqa": "choice",
        "logiqa": "choice",
        "medqa": "choice",
        "mednli": "label",
        "cqa": "yes_no",
        "cfa": "choice",
    }
    assert load_task(EXAMPLES / "cfa.yaml").answer.options() == {"letters": "ABC"}


@pytest.mark.parametrize("letters", ["[A, B, C, D]", "ABCD", "['A', 'B', 'C', 'D']"])
def test_letters_as_a_list_or_a_string(write_task, letters: str) -> None:
    """`letters: [A, B, C, D]` is how people write it in YAML (was: 'Input should be a valid
    string')."""
    text = GOOD_TASK.replace("kind: number", f"kind: choice\n  letters: {letters}")
    assert load_task(write_task(text)).answer.options() == {"letters": "ABCD"}


def test_input_format_none_is_none(write_task) -> None:
    task = load_task(write_task(GOOD_TASK + "input_format: None\n"))
    assert task.input_format is None


def test_name_defaults_to_file_stem(write_task) -> None:
    text = GOOD_TASK.replace("name: arith\n", "")
    assert load_task(write_task(text, "my-task.yaml")).name == "my-task"


BAD_FILES = [
    ("missing_file", None, "no such file"),
    ("empty", "", "the file is empty"),
    ("bad_yaml", "description: [unclosed\n", "not valid YAML at line"),
    ("not_mapping", "- a\n- b\n", "top level must be a mapping"),
    ("no_description", GOOD_TASK.replace("description:", "#"), "field 'description' is required"),
    (
        "no_output_format",
        GOOD_TASK.replace("output_format:", "#"),
        "field 'output_format' is required",
    ),
    ("no_answer", GOOD_TASK.split("answer:")[0], "field 'answer' is required"),
    ("typo_field", GOOD_TASK + "demo: []\n", "Did you mean 'demos'?"),
    ("bad_kind", GOOD_TASK.replace("kind: number", "kind: numeric"), "use one of 'number'"),
    ("label_no_labels", GOOD_TASK.replace("kind: number", "kind: label"), "needs `labels:`"),
    (
        "bad_letters",
        GOOD_TASK.replace("kind: number", "kind: choice\n  letters: abcd"),
        "capital letters",
    ),
    (
        "letters_list_not_letters",
        GOOD_TASK.replace("kind: number", "kind: choice\n  letters: [AB, C]"),
        "single letters, e.g. [A, B, C, D]",
    ),
    (
        "letters_number",
        GOOD_TASK.replace("kind: number", "kind: choice\n  letters: 4"),
        "[A, B, C, D]",
    ),
    (
        "letters_wrong_kind",
        GOOD_TASK.replace("kind: number", "kind: number\n  letters: ABCD"),
        "`letters` applies to kind 'choice' only",
    ),
    (
        "demo_no_output",
        GOOD_TASK + "demos:\n  - input: What is 2+2?\n",
        "field 'demos.0.output' is required",
    ),
    ("demos_not_list", GOOD_TASK + "demos: some text\n", "field 'demos'"),
    (
        "short_description",
        GOOD_TASK.replace("Solve grade-school arithmetic word problems step by step.", "math"),
        "at least 10 characters",
    ),
    ("bad_name", GOOD_TASK.replace("name: arith", "name: 'my task!'"), "field 'name'"),
    (
        "duplicate_labels",
        GOOD_TASK.replace("kind: number", "kind: label\n  labels: [pos, Pos]"),
        "distinct",
    ),
    (
        "unquoted_yes",
        GOOD_TASK.replace("kind: number", "kind: label\n  labels: [yes, no]"),
        "put it in quotes",
    ),
    ("bad_setting", GOOD_TASK + "settings:\n  generate:\n    n: -3\n", "settings.generate.n"),
    ("unknown_setting", GOOD_TASK + "settings:\n  generat: {n: 3}\n", "Did you mean 'generate'?"),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_task_file_message(case: str, text: str | None, message: str, tmp_path: Path) -> None:
    from synthrl.config import resolve_config

    path = tmp_path / f"{case}.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(TaskFileError) as info:
        task = load_task(path)
        resolve_config("paper", task.settings, source=str(path))
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.exit_code == 2


def test_validate_cli_exit_code_and_message(write_task) -> None:
    bad = write_task(GOOD_TASK.replace("kind: number", "kind: numeric"))
    proc = subprocess.run(
        [sys.executable, "-m", "synthrl.cli", "validate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "answer.kind" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_validate_cli_accepts_examples() -> None:
    files = sorted(str(p) for p in EXAMPLES.glob("*.yaml"))
    proc = subprocess.run(
        [sys.executable, "-m", "synthrl.cli", "validate", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("ok") == len(files)
