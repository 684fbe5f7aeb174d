"""The veRL export, GRPO and PPO, checked against veRL itself (`make verl-check`).

veRL pins transformers<5.11 and cannot share synthrl's environment, so check_export.py runs in
a separate one: the python in $SYNTHRL_VERL_PYTHON, else `.venv-verl/bin/python` (which
`make verl-check` builds). Without either this test is skipped; tests/test_verl_export.py checks
the export standalone and always runs.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from synthrl.config import RunConfig, resolve_config
from synthrl.task import load_task
from synthrl.train.data import rows_from_selected
from synthrl.train.verl import ALGOS, CRITIC_LEARNING_RATE, write_export
from tests.conftest import EXAMPLES, REPO

CHECK = Path(__file__).with_name("check_export.py")

# One row per answer kind, so veRL's dataset and reward loader see every extra_info shape.
SELECTED = {
    "logiqa": ("Context: ...\nQuestion: Which follows?\nA) rain\nB) snow\nC) sun\nD) fog", "B"),
    "mednli": (
        "Premise: The patient is afebrile. Hypothesis: The patient has a fever.",
        "contradiction",
    ),
    "gsm8k": ("Tom has 3 apples and buys 4 more. How many apples does he have?", "7"),
    "cqa": ("Is the sky blue on a clear day?", "yes"),
    "math": ("What is 1/2 + 1/4?", r"\frac{3}{4}"),
}


def verl_python() -> Path | None:
    configured = os.environ.get("SYNTHRL_VERL_PYTHON")
    if configured:
        return Path(configured)
    default = REPO / ".venv-verl" / "bin" / "python"
    return default if default.exists() else None


@pytest.fixture
def python() -> Path:
    found = verl_python()
    if found is None:
        pytest.skip(
            "no veRL environment: set SYNTHRL_VERL_PYTHON or run `make verl-check` "
            "(builds .venv-verl); veRL cannot share synthrl's environment"
        )
    if not found.exists():
        pytest.fail(f"SYNTHRL_VERL_PYTHON={found}: no such file")
    return found


def expected(config: RunConfig, algo: str) -> dict[str, object]:
    """Composed values check_export.py must find for this export (beyond its own checks)."""
    t = config.train
    if algo == "ppo":
        specific = {
            "algorithm.adv_estimator": "gae",
            "actor_rollout_ref.rollout.n": 1,
            "algorithm.kl_ctrl.kl_coef": t.beta,
            "critic.optim.lr": CRITIC_LEARNING_RATE,
            "critic.ppo_mini_batch_size": t.prompts_per_step,
        }
    else:
        specific = {
            "algorithm.adv_estimator": "grpo",
            "actor_rollout_ref.rollout.n": t.num_generations,
            "actor_rollout_ref.actor.kl_loss_coef": t.beta,
        }
    return {
        **specific,
        "actor_rollout_ref.actor.optim.lr": t.learning_rate,
        "actor_rollout_ref.rollout.temperature": t.temperature,
        "trainer.total_epochs": max(1, round(t.epochs)),
        "data.train_batch_size": t.prompts_per_step,
        "data.max_response_length": t.max_completion_tokens,
        "reward.custom_reward_function.name": "compute_score",
        "actor_rollout_ref.rollout.tensor_model_parallel_size": 1,  # ${ROLLOUT_TP:-1}
        "trainer.test_freq": -1,
    }


@pytest.mark.parametrize("algo", ALGOS)
def test_export_is_accepted_by_verl(tmp_path: Path, python: Path, algo: str) -> None:
    from synthrl.models import hf_path

    rows, ids = [], []
    for name, (task_input, label) in SELECTED.items():
        task = load_task(EXAMPLES / f"{name}.yaml")
        rows += rows_from_selected(task, [{"input": task_input, "label": label}], "grpo")
        ids.append(name)
    config = resolve_config("paper")
    export = tmp_path / "verl"
    model = str(hf_path("base"))
    write_export(export, config, "mixed", rows, ids, model, algo)

    expect = {
        **expected(config, algo),
        "reward.custom_reward_function.path": str((export / "reward.py").resolve()),
    }
    if algo == "ppo":
        expect["critic.model.path"] = model
    args = [str(python), str(CHECK), str(export), "--tokenizer", str(hf_path("base"))]
    for key, value in expect.items():
        args += ["--expect", f"{key}={value}"]
    env = {**os.environ, "HF_DATASETS_CACHE": str(tmp_path / "datasets")}
    done = subprocess.run(args, capture_output=True, text=True, timeout=900, env=env)
    report = "\n".join(
        line for line in done.stdout.splitlines() if line.startswith(("[", "PASSED", "FAILED", " "))
    )
    assert done.returncode == 0, f"{report}\n{done.stderr[-3000:]}"
    assert "PASSED: " in done.stdout
    assert report.count("[reward] ok   row") == len(SELECTED), report
    assert f"[script] ok   main_ppo accepts run_{algo}.sh's arguments" in report, report
