"""The veRL export, checked standalone (veRL pins transformers<5.11 and cannot share this
environment): parquet schema, the reward file scores responses with synthrl's checker, and the
launch script carries the GRPO overrides."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from synthrl.config import resolve_config
from synthrl.errors import SynthRLError
from synthrl.task import load_task
from synthrl.train.data import rows_from_selected
from synthrl.train.verl import launch, write_export
from tests.conftest import EXAMPLES

SELECTED = [
    {
        "id": "g1",
        "input": "Context: ...\nQuestion: Which follows?\nA) rain\nB) snow\nC) sun\nD) fog",
        "label": "B",
        "reference": "<answer>B</answer>",
    },
]


def export(tmp_path: Path) -> dict[str, Path]:
    task = load_task(EXAMPLES / "logiqa.yaml")
    config = resolve_config("paper")
    rows = rows_from_selected(task, SELECTED, "grpo")
    return write_export(tmp_path, config, task.name, rows, ["g1"], "Qwen/Qwen2.5-7B")


def test_parquet_schema(tmp_path: Path) -> None:
    files = export(tmp_path)
    table = pq.read_table(files["parquet"])
    assert set(table.column_names) == {
        "data_source",
        "prompt",
        "ability",
        "reward_model",
        "extra_info",
    }
    row = table.to_pylist()[0]
    assert row["data_source"] == "synthrl/logiqa"
    assert row["prompt"][0]["role"] == "user" and "Which follows?" in row["prompt"][0]["content"]
    assert row["reward_model"] == {"style": "rule", "ground_truth": "B"}
    assert row["extra_info"]["kind"] == "choice" and row["extra_info"]["options"]["B"] == "snow"


def test_reward_file_scores_with_the_checker(tmp_path: Path) -> None:
    files = export(tmp_path)
    spec = importlib.util.spec_from_file_location("verl_reward", files["reward"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    row = pq.read_table(files["parquet"]).to_pylist()[0]
    args = (row["data_source"], "<think>...</think><answer>B</answer>", "B", row["extra_info"])
    assert module.compute_score(*args) == pytest.approx(1.0)  # paper: correctness only
    assert (
        module.compute_score(row["data_source"], "I think it is snow.", "B", row["extra_info"])
        == 1.0
    )
    assert (
        module.compute_score(row["data_source"], "<answer>A</answer>", "B", row["extra_info"])
        == 0.0
    )
    bonus = {**row["extra_info"], "format_weight": 0.1}  # the cpu preset's format bonus
    assert module.compute_score(row["data_source"], "<answer>A</answer>", "B", bonus) == 0.1


def test_launch_script_overrides(tmp_path: Path) -> None:
    files = export(tmp_path)
    text = files["script"].read_text()
    for override in (
        "algorithm.adv_estimator=grpo",
        "actor_rollout_ref.rollout.n=16",
        "data.train_batch_size=64",
        "actor_rollout_ref.actor.kl_loss_coef=0.01",
        "actor_rollout_ref.actor.optim.lr=1e-06",
        "data.max_response_length=2048",
        "actor_rollout_ref.rollout.temperature=1.2",
        "trainer.total_epochs=5",
        "reward.custom_reward_function.name=compute_score",
        f"reward.custom_reward_function.path={tmp_path.resolve() / 'reward.py'}",
    ):
        assert override in text, override
    lines = (tmp_path / "overrides.txt").read_text().splitlines()
    assert all("=" in line for line in lines) and len(lines) == len(set(lines))
    # veRL 0.9's main_ppo accepts the top-level `custom_reward_function` (a legacy key), then
    # ignores it and scores with its default reward (checked against veRL by `make verl-check`).
    assert not any(line.startswith("custom_reward_function.") for line in lines)
    json.dumps(lines)


@pytest.mark.skipif(importlib.util.find_spec("verl") is not None, reason="veRL is installed here")
def test_launch_refuses_without_verl(tmp_path: Path) -> None:
    with pytest.raises(SynthRLError, match="veRL is not installed"):
        launch(export(tmp_path)["script"])


def test_verl_engine_refuses_the_baselines(tmp_path: Path) -> None:
    """--engine verl trains GRPO on the selection; SFT and human data are TRL-only: say so."""
    import subprocess
    import sys

    for extra in (["--algo", "sft"], ["--data", str(tmp_path / "human.jsonl")]):
        command = [sys.executable, "-m", "synthrl.cli", "train", str(tmp_path), "--engine", "verl"]
        done = subprocess.run(
            [*command, *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 1 and "--engine trl" in done.stderr, done.stderr


def test_format_reward_setting_reaches_the_verl_reward(tmp_path: Path) -> None:
    task = load_task(EXAMPLES / "logiqa.yaml")
    config = resolve_config("paper", overrides={"train": {"format_reward": 0.5}})
    rows = rows_from_selected(task, SELECTED, "grpo")
    files = write_export(tmp_path, config, task.name, rows, ["g1"], "Qwen/Qwen2.5-7B")
    spec = importlib.util.spec_from_file_location("verl_reward_fmt", files["reward"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    row = pq.read_table(files["parquet"]).to_pylist()[0]
    assert row["extra_info"]["format_weight"] == 0.5
    score = module.compute_score(row["data_source"], "<answer>B</answer>", "B", row["extra_info"])
    assert score == pytest.approx(1.5)
    assert "rollout.tensor_model_parallel_size=${ROLLOUT_TP:-1}" in files["script"].read_text()
