"""veRL (Ray + FSDP, multi-node) as a training engine: synthrl writes veRL's parquet schema, a
reward file that calls synthrl's answer checker, and a launch script with GRPO overrides (or PPO,
GAE with a critic, for `--algo ppo`); the cluster runs veRL itself. `synthrl export verl RUN`
writes them; `synthrl train RUN --engine verl` runs the script where veRL and a GPU are present
(docs/training.md covers multi-node start).

Row schema (veRL's RLHFDataset): data_source, prompt (chat messages), ability, reward_model
{style: rule, ground_truth}, extra_info {index, id, kind, letters?, options?, labels?, ...}.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from synthrl.config import RunConfig
from synthrl.errors import SynthRLError

REWARD_FILE = '''"""veRL custom reward: synthrl's answer checker (from `synthrl export verl`)."""

from synthrl.answers import compute_score as _synthrl_score


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """veRL passes the response only (not the prompt) as `solution_str`."""
    return _synthrl_score(data_source, solution_str, ground_truth, extra_info)
'''


def verl_rows(
    task_name: str,
    rows: list[dict[str, Any]],
    ids: list[str],
    format_weight: float,
    lenient_credit: float = 1.0,
) -> list[dict[str, Any]]:
    """synthrl GRPO rows (see train.data) as veRL parquet rows; the reward file reads the answer
    kind, options, `train.format_reward` and `train.lenient_credit` from `extra_info`."""
    out = []
    for index, (row, sample_id) in enumerate(zip(rows, ids, strict=True)):
        extra: dict[str, Any] = {
            "index": index,
            "id": sample_id,
            "kind": row["kind"],
            "format_weight": format_weight,
            "lenient_credit": lenient_credit,
        }
        for key in ("letters", "labels", "rel_tol", "decimals"):
            if key in row:
                extra[key] = row[key]
        for key in ("options", "synonyms"):
            if key in row:
                extra[key] = json.loads(row[key])
        out.append(
            {
                "data_source": f"synthrl/{task_name}",
                "prompt": row["prompt"],
                "ability": row["kind"],
                "reward_model": {"style": "rule", "ground_truth": row["answer"]},
                "extra_info": extra,
            }
        )
    return out


ALGOS = ("grpo", "ppo")
# PPO's critic (the base model with a fresh value head): the rate of veRL's PPO examples
# (examples/ppo_trainer) and of its critic config's default.
CRITIC_LEARNING_RATE = 1e-5
MICRO_BATCH_PER_GPU = 4  # actor and critic forward/backward micro-batch; memory, not maths


def check_algo(algo: str) -> str:
    """`algo` if veRL's export offers it, else a SynthRLError naming the choices."""
    if algo == "sft":
        raise SynthRLError(
            "the SFT baseline trains with --engine trl; the veRL export offers grpo and ppo."
        )
    if algo not in ALGOS:
        raise SynthRLError(f"unknown veRL algorithm {algo!r}: use one of {', '.join(ALGOS)}.")
    return algo


def overrides(config: RunConfig, data_dir: Path, model_path: str, algo: str = "grpo") -> list[str]:
    """Hydra overrides for veRL's main_ppo: GRPO or PPO with the run's settings."""
    t = config.train
    train_file = data_dir / "train.parquet"
    specific = _grpo(config) if check_algo(algo) == "grpo" else _ppo(config, model_path)
    return [
        *specific,
        f"data.train_files={train_file}",
        f"data.val_files={train_file}",  # synthetic data only: no held-out split here
        "trainer.test_freq=-1",
        f"data.train_batch_size={t.prompts_per_step}",
        "data.max_prompt_length=1024",
        f"data.max_response_length={t.max_completion_tokens}",
        "data.filter_overlong_prompts=True",
        f"actor_rollout_ref.model.path={model_path}",
        f"actor_rollout_ref.actor.optim.lr={t.learning_rate}",
        f"actor_rollout_ref.actor.ppo_mini_batch_size={t.prompts_per_step}",
        f"actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu={MICRO_BATCH_PER_GPU}",
        "actor_rollout_ref.actor.loss_agg_mode=token-mean",
        "actor_rollout_ref.actor.strategy=fsdp",
        "actor_rollout_ref.rollout.name=vllm",
        "actor_rollout_ref.rollout.tensor_model_parallel_size=${ROLLOUT_TP:-1}",
        f"actor_rollout_ref.rollout.temperature={t.temperature}",
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=8",
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=8",
        # veRL 0.9 reads the reward from `reward.custom_reward_function`; its top-level
        # `custom_reward_function` is a legacy key that main_ppo accepts and then ignores.
        f"reward.custom_reward_function.path={data_dir / 'reward.py'}",
        "reward.custom_reward_function.name=compute_score",
        f"trainer.total_epochs={max(1, round(t.epochs))}",
        "trainer.critic_warmup=0",
        "trainer.logger=['console']",
        f"trainer.default_local_dir={data_dir / 'checkpoints'}",
        "trainer.n_gpus_per_node=${GPUS_PER_NODE:-1}",
        "trainer.nnodes=${NNODES:-1}",
    ]


def _grpo(config: RunConfig) -> list[str]:
    """GRPO: groups of `num_generations` completions, KL to the reference as a loss term."""
    t = config.train
    return [
        "algorithm.adv_estimator=grpo",
        "algorithm.use_kl_in_reward=False",
        "actor_rollout_ref.actor.use_kl_loss=True",
        f"actor_rollout_ref.actor.kl_loss_coef={t.beta}",
        "actor_rollout_ref.actor.kl_loss_type=low_var_kl",
        f"actor_rollout_ref.rollout.n={t.num_generations}",
    ]


def _ppo(config: RunConfig, model_path: str) -> list[str]:
    """PPO as veRL's examples run it: one completion per prompt, GAE with a critic initialised
    from the same model (gamma = lambda = 1: a token's advantage is the reward still to come minus
    the critic's value there), and the KL to the reference subtracted from the reward with the
    fixed coefficient `train.beta`."""
    t = config.train
    return [
        "algorithm.adv_estimator=gae",
        "algorithm.gamma=1.0",
        "algorithm.lam=1.0",
        "algorithm.use_kl_in_reward=True",
        "algorithm.kl_penalty=kl",
        "algorithm.kl_ctrl.type=fixed",
        f"algorithm.kl_ctrl.kl_coef={t.beta}",
        "actor_rollout_ref.actor.use_kl_loss=False",
        "actor_rollout_ref.rollout.n=1",
        f"critic.model.path={model_path}",
        f"critic.optim.lr={CRITIC_LEARNING_RATE}",
        f"critic.ppo_mini_batch_size={t.prompts_per_step}",
        f"critic.ppo_micro_batch_size_per_gpu={MICRO_BATCH_PER_GPU}",
        "critic.strategy=fsdp",
    ]


def write_export(
    out_dir: Path,
    config: RunConfig,
    task_name: str,
    rows: list[dict[str, Any]],
    ids: list[str],
    model_path: str,
    algo: str = "grpo",
) -> dict[str, Path]:
    """Write train.parquet, reward.py, overrides.txt and run_ALGO.sh (run_grpo.sh or
    run_ppo.sh) into `out_dir`; another algorithm's script left there is removed, since
    overrides.txt no longer matches it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = overrides(config, out_dir.resolve(), model_path, algo)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = config.train
    table = pa.Table.from_pylist(
        verl_rows(task_name, rows, ids, cfg.format_reward, cfg.lenient_credit)
    )
    pq.write_table(table, out_dir / "train.parquet")
    (out_dir / "reward.py").write_text(REWARD_FILE, encoding="utf-8")
    (out_dir / "overrides.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for other in ALGOS:
        if other != algo:
            (out_dir / f"run_{other}.sh").unlink(missing_ok=True)
    script = out_dir / f"run_{algo}.sh"
    args = " \\\n    ".join(_shell_arg(line) for line in lines)
    script.write_text(
        "#!/usr/bin/env bash\n"
        f"# {algo.upper()} with veRL on Ray (written by `synthrl export verl --algo {algo}`).\n"
        "# Multi-node: `ray start --head` on the first node, `ray start --address=HEAD:6379` on\n"
        "# the others, then run this on the head with NNODES and GPUS_PER_NODE set (and\n"
        "# ROLLOUT_TP for vLLM tensor parallelism, PYTHON for the interpreter with veRL).\n"
        'set -euo pipefail\n"${PYTHON:-python3}" -m verl.trainer.main_ppo \\\n'
        f'    {args} "$@"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return {"parquet": out_dir / "train.parquet", "reward": out_dir / "reward.py", "script": script}


def _shell_arg(line: str) -> str:
    """Quote an override for bash, leaving ${VAR:-default} expansions live."""
    if "${" in line:
        return f'"{line}"'
    return shlex.quote(line)


def launch(script: Path) -> int:
    """Run the launch script (with this interpreter), or refuse clearly when veRL or a GPU is
    missing."""
    if importlib.util.find_spec("verl") is None:
        raise SynthRLError(
            "veRL is not installed here: on the GPU nodes, pip install verl, then "
            "`pip install --no-deps synthrl` and its `reward` extra's packages (veRL pins its own "
            f"transformers range), or copy the export folder to the cluster and run {script.name} "
            "there."
        )
    import torch

    if not torch.cuda.is_available():
        raise SynthRLError("veRL training needs CUDA GPUs; none is visible on this machine.")
    env = {"PYTHON": sys.executable, **os.environ}
    return subprocess.call(["bash", str(script)], env=env)
