"""Checks before the first model call: a run that would fail at `train` or `evaluate` fails at
once, with every problem listed and no stage run."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from synthrl.config import resolve_config
from synthrl.errors import SynthRLError
from synthrl.preflight import check_plan
from synthrl.task import load_task
from tests.conftest import EXAMPLES, GOOD_TASK

PLAN = ["keywords", "retrieve", "generate", "verify", "select", "train", "evaluate"]


def test_api_base_is_refused_when_train_is_planned(write_task) -> None:
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu", overrides={"models": {"base": "openai:http://127.0.0.1:9/v1#m"}})
    with pytest.raises(SynthRLError, match="no weights to train"):
        check_plan(task, config, PLAN)
    check_plan(task, config, PLAN[:5])  # stopping before train is fine


def test_batch_and_selection_size_are_checked(write_task) -> None:
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config(
        "cpu", overrides={"train": {"prompts_per_step": 3, "micro_batch_prompts": 2}}
    )
    with pytest.raises(SynthRLError, match="multiple of") as err:
        check_plan(task, config, PLAN)
    assert "select.m (6) is below train.prompts_per_step (3)" not in str(err.value)
    small = resolve_config("cpu", overrides={"select": {"m": 2}, "train": {"prompts_per_step": 4}})
    with pytest.raises(SynthRLError, match=r"select.m \(2\) is below"):
        check_plan(task, small, PLAN)


def test_skipping_settled_prompts_needs_the_trl_engine(write_task) -> None:
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu", overrides={"train": {"skip_settled": True, "engine": "verl"}})
    with pytest.raises(SynthRLError, match=r"skip_settled works with train.engine=trl only"):
        check_plan(task, config, PLAN)
    check_plan(task, resolve_config("cpu", overrides={"train": {"skip_settled": True}}), PLAN)


def test_vllm_training_without_vllm_is_refused(write_task) -> None:
    pytest.importorskip("torch")
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu", overrides={"train": {"vllm": True}})
    with pytest.raises(SynthRLError, match=r"train\.vllm"):
        check_plan(task, config, PLAN)


def test_missing_evaluation_set_is_found_before_any_stage(write_task, tmp_path: Path) -> None:
    task = load_task(write_task(GOOD_TASK + f"evaluation: {{path: {tmp_path / 'nope.jsonl'}}}\n"))
    with pytest.raises(SynthRLError, match="evaluation set cannot be read"):
        check_plan(task, resolve_config("cpu"), PLAN)
    check_plan(task, resolve_config("cpu"), ["keywords", "retrieve"])


def test_adaptive_scoring_needs_the_potential_strategy() -> None:
    from synthrl.errors import TaskFileError

    with pytest.raises(TaskFileError, match=r"score\.adaptive"):
        resolve_config("cpu", overrides={"select": {"strategy": "easy"}})
    resolve_config("cpu", overrides={"select": {"strategy": "easy"}, "score": {"adaptive": False}})


def test_cli_run_with_an_api_base_fails_before_any_stage(tmp_path: Path) -> None:
    """The acceptance command: exit non-zero, no traceback, no stage folder written."""
    out = tmp_path / "run"
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "synthrl.cli",
            "run",
            str(EXAMPLES / "gsm8k.yaml"),
            "--preset",
            "cpu",
            "--base",
            "openai:http://127.0.0.1:9/v1#m",
            "--out",
            str(out),
            "--cache",
            str(tmp_path / "cache.sqlite"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "no weights to train" in proc.stderr
    assert not any(p.is_dir() for p in out.glob("*")) if out.exists() else True
    assert time.monotonic() - started < 60
