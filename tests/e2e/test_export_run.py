"""`synthrl export gguf RUN` on a run whose trained model is the embedded base's Hugging Face
folder (a stand-in for train/model/): the GGUF loads in llama-cpp-python and its greedy answers
match the Hugging Face model's on a handful of prompts, up to q8_0's precision; the model card is
written beside the weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthrl.artifacts import RunDir
from synthrl.config import resolve_config
from synthrl.pipeline import write_run_info
from synthrl.task import load_task
from tests.conftest import EXAMPLES
from tests.e2e.test_gguf_export import agreement, gguf_greedy, hf_greedy

pytestmark = pytest.mark.slow


def test_export_gguf_of_a_run(tmp_path: Path) -> None:
    from synthrl.cli import app
    from synthrl.models import hf_path

    task_path = EXAMPLES / "gsm8k.yaml"
    run = RunDir(tmp_path / "run")
    write_run_info(run, task_path, load_task(task_path), resolve_config("cpu"))
    model = run.stage_dir("train") / "model"
    shutil.copytree(hf_path("base"), model)
    run.finish("train", {"counts": {"rows": 0, "steps": 0}})

    result = CliRunner().invoke(app, ["export", "gguf", str(run.root)])
    assert result.exit_code == 0, result.output
    path = run.root / "export" / "gguf" / "gsm8k-q8_0.gguf"
    assert path.is_file() and (model / "README.md").is_file()
    expected = hf_greedy(model)
    got = gguf_greedy(path, model)
    assert agreement(got, expected) >= 0.8, (got, expected)
