"""The veRL export, checked standalone (veRL pins transformers<5.11 and cannot share this
environment): parquet schema, the reward file scores responses with synthrl's checker, and the
launch script carries the GRPO or PPO overrides."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from synthrl.config import resolve_config
from synthrl.errors import SynthRLError
from synthrl.task import load_task
from synthrl.train.data import rows_from_selected
from synthrl.train.verl import CRITIC_LEARNING_RATE, launch, write_export
from tests.conftest import EXAMPLES

SELECTED = [
    {
        "id": "g1",
        "input": "Context: ...\nQuestion: Which follows?\nA) rain\nB) snow\nC) sun\nD) fog",
        "label": "B",
        "reference": "<answer>B</answer>",
    },
]


def export(tmp_path: Path, algo: str = "grpo") -> dict[str, Path]:
    task = load_task(EXAMPLES / "logiqa.yaml")
    config = resolve_config("paper")
    rows = rows_from_selected(task, SELECTED, "grpo")
    return write_export(tmp_path, config, task.name, rows, ["g1"], "Qwen/Qwen2.5-7B", algo)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "synthrl.cli", *args], capture_output=True, text=True, check=False
    )


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
    """--engine verl trains GRPO or PPO on the selection; SFT and human data are TRL-only."""
    for extra in (["--algo", "sft"], ["--data", str(tmp_path / "human.jsonl")]):
        done = cli("train", str(tmp_path), "--engine", "verl", *extra)
        assert done.returncode == 1 and "--engine trl" in done.stderr, done.stderr


def test_ppo_export(tmp_path: Path) -> None:
    """PPO: GAE with a critic from the actor's own model, one completion per prompt, the KL in
    the reward at train.beta, and run_ppo.sh (replacing a GRPO script left in the folder)."""
    export(tmp_path)
    files = export(tmp_path, "ppo")
    assert files["script"] == tmp_path / "run_ppo.sh" and files["script"].is_file()
    assert not (tmp_path / "run_grpo.sh").exists()
    lines = (tmp_path / "overrides.txt").read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines)
    assert len(values) == len(lines)  # no key set twice
    assert values["algorithm.adv_estimator"] == "gae"
    assert values["actor_rollout_ref.rollout.n"] == "1"
    assert values["critic.model.path"] == values["actor_rollout_ref.model.path"]
    assert values["critic.model.path"] == "Qwen/Qwen2.5-7B"
    assert float(values["critic.optim.lr"]) == CRITIC_LEARNING_RATE
    assert (
        values["critic.ppo_mini_batch_size"]
        == values["actor_rollout_ref.actor.ppo_mini_batch_size"]
    )
    assert values["critic.strategy"] == "fsdp"
    assert values["algorithm.use_kl_in_reward"] == "True"
    assert float(values["algorithm.kl_ctrl.kl_coef"]) == resolve_config("paper").train.beta
    assert values["actor_rollout_ref.actor.use_kl_loss"] == "False"
    assert values["algorithm.gamma"] == values["algorithm.lam"] == "1.0"
    assert values["trainer.critic_warmup"] == "0"
    text = files["script"].read_text()
    assert "algorithm.adv_estimator=gae" in text and "--algo ppo" in text
    grpo = export(tmp_path / "grpo")
    assert grpo["script"].name == "run_grpo.sh"
    assert "critic." not in (tmp_path / "grpo" / "overrides.txt").read_text()


def test_unknown_algo_is_refused(tmp_path: Path) -> None:
    """Before reading the run: an unknown algorithm, and SFT or PPO on the wrong engine."""
    for command, message in (
        (["export", "verl", str(tmp_path), "--algo", "dpo"], "unknown veRL algorithm 'dpo'"),
        (["export", "verl", str(tmp_path), "--algo", "sft"], "--engine trl"),
        (["train", str(tmp_path), "--engine", "verl", "--algo", "dpo"], "use one of grpo, ppo"),
        (["train", str(tmp_path), "--algo", "ppo"], "--engine verl"),
    ):
        done = cli(*command)
        assert done.returncode == 1 and message in done.stderr, (command, done.stderr)
    with pytest.raises(SynthRLError, match="unknown veRL algorithm"):
        export(tmp_path, "reinforce")
    assert not (tmp_path / "train.parquet").exists()  # refused before writing anything


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
