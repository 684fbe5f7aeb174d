"""Check a `synthrl export verl` folder against veRL itself, on CPU.

Run it with the python of an environment that holds veRL (0.9.x) and synthrl (installed with
--no-deps, plus math-verify), not with synthrl's own environment (veRL pins transformers<5.11):

    .venv-verl/bin/python tests/verl_compat/check_export.py EXPORT_DIR --tokenizer HF_MODEL_DIR \\
        [--expect actor_rollout_ref.rollout.n=16 ...]

It uses veRL's own code at every step:
1. config: composes veRL's Hydra trainer config (`verl/trainer/config/ppo_trainer.yaml`) with
   every line of overrides.txt (`${VAR:-default}` resolved to its default), checks that each
   override landed, that none sits on a legacy key main_ppo ignores, the GRPO or PPO settings
   (PPO: `algorithm.adv_estimator=gae`, a critic from the actor's model, the KL in the reward)
   and the `--expect` values, then runs main_ppo's `validate_config` (with PPO's critic, veRL
   builds and validates its critic config too);
2. script: runs run_grpo.sh or run_ppo.sh with Hydra's `--cfg job` (main_ppo's own entry point
   prints the config it would train with and exits) and checks it equals the composed config,
   so the script's shell quoting and `${VAR:-default}` expansions are checked too;
3. dataset: reads train.parquet with veRL's dataset class (`create_rl_dataset` ->
   `RLHFDataset`, with the composed `data` config and the tokenizer) and checks that each row's
   chat prompt survives, tokenizes within `data.max_prompt_length` and decodes back to the
   chat-template text;
4. reward: loads reward.py through veRL's loader (`get_custom_reward_fn`, which reads
   `reward.custom_reward_function.path/name`) and its reward manager (`load_reward_manager`),
   and scores a correct and a wrong response for each row.

Prints one line per check and exits 1 if any failed.
"""

from __future__ import annotations

import argparse
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

# Never reach a hub; keep the datasets cache of the parquet out of ~/.cache.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
if "HF_DATASETS_CACHE" not in os.environ:
    os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="verl-check-datasets-")
    atexit.register(shutil.rmtree, os.environ["HF_DATASETS_CACHE"], ignore_errors=True)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHELL_DEFAULT = re.compile(r"\$\{(\w+):-([^}]*)\}")
CORRECT = "<think>Checking the options.</think>\n<answer>{}</answer>"
ALGOS = {"grpo": "grpo", "gae": "ppo"}  # veRL's algorithm.adv_estimator -> `--algo` of the export


class Report:
    def __init__(self) -> None:
        self.failed: list[str] = []
        self.passed = 0

    def check(self, section: str, name: str, ok: bool, detail: Any = "") -> bool:
        tag = "ok  " if ok else "FAIL"
        print(f"[{section}] {tag} {name}" + (f": {detail}" if detail != "" else ""))
        if ok:
            self.passed += 1
        else:
            self.failed.append(f"{section}: {name}")
        return ok

    def crash(self, section: str, exc: BaseException) -> None:
        traceback.print_exc()
        self.check(section, "raised", False, f"{type(exc).__name__}: {exc}")


def override_lines(path: Path) -> list[str]:
    """overrides.txt with shell defaults (`${GPUS_PER_NODE:-1}`) resolved to the default."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [SHELL_DEFAULT.sub(r"\2", line) for line in lines if line and not line.startswith("#")]


def plain(value: Any) -> Any:
    from omegaconf import DictConfig, ListConfig, OmegaConf

    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) <= 1e-12 * max(1.0, abs(float(b)))
    return a == b


def parse(lines: list[str]) -> list[tuple[str, Any]]:
    """(key, value) of Hydra override strings, parsed by Hydra's own override grammar."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return [(o.key_or_group, o.value()) for o in OverridesParser.create().parse_overrides(lines)]


def check_config(report: Report, export: Path, expect: list[str]) -> Any:
    import verl
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    config_dir = Path(verl.__file__).parent / "trainer" / "config"
    lines = override_lines(export / "overrides.txt")
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=lines)
    report.check("config", f"ppo_trainer composed with {len(lines)} overrides", True)

    missing = []
    for key, value in parse(lines):
        found = plain(OmegaConf.select(cfg, key, default="<missing>"))
        if not same(found, value):
            missing.append(f"{key}={found!r} (wanted {value!r})")
    report.check("config", "every override landed", not missing, "; ".join(missing))

    legacy_file = config_dir / "legacy_reward_impl.yaml"
    legacy = set(OmegaConf.load(legacy_file)) if legacy_file.is_file() else set()
    stale = [key for key, _ in parse(lines) if key.split(".")[0] in legacy]
    report.check(
        "config",
        "no legacy reward keys (main_ppo ignores them)",
        not stale,
        f"{stale}: use reward.<key> instead" if stale else "",
    )

    actor = cfg.actor_rollout_ref.actor
    rollout = cfg.actor_rollout_ref.rollout
    algo = ALGOS.get(cfg.algorithm.adv_estimator)
    report.check("config", "algorithm.adv_estimator", algo is not None, cfg.algorithm.adv_estimator)
    if algo == "grpo":
        check_grpo(report, cfg)
    elif algo == "ppo":
        check_ppo(report, cfg)
    report.check(
        "config",
        "lr / temperature / total_epochs",
        True,
        f"{actor.optim.lr} / {rollout.temperature} / {cfg.trainer.total_epochs}",
    )
    check_paths(report, cfg, export)
    for key, value in parse(expect):
        found = plain(OmegaConf.select(cfg, key, default="<missing>"))
        report.check("config", f"expect {key}", same(found, value), f"{found!r} (wanted {value!r})")

    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass, validate_config

    # With a critic (PPO) this builds veRL's critic config, its model config included (which
    # loads critic.model.path's tokenizer and HF config), and validates its batch sizes.
    validate_config(
        config=cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg)
    )
    omega_conf_to_dataclass(cfg.algorithm)
    omega_conf_to_dataclass(cfg.actor_rollout_ref.rollout)
    report.check("config", "validate_config (as main_ppo) and dataclass configs", True)
    return cfg


def check_paths(report: Report, cfg: Any, export: Path) -> None:
    """The reward function and the training data are this export's files."""
    reward_fn = cfg.reward.custom_reward_function
    reward_path = (export / "reward.py").resolve()
    report.check(
        "config",
        "reward.custom_reward_function",
        reward_fn.path is not None
        and Path(reward_fn.path).resolve() == reward_path
        and reward_fn.name == "compute_score",
        f"path={reward_fn.path}, name={reward_fn.name}",
    )
    train_files = plain(cfg.data.train_files)
    train_files = train_files if isinstance(train_files, list) else [train_files]
    report.check(
        "config",
        "data.train_files is this export's parquet",
        [Path(f).resolve() for f in train_files] == [(export / "train.parquet").resolve()],
        train_files,
    )


def check_grpo(report: Report, cfg: Any) -> None:
    """GRPO: groups of completions per prompt, the KL as a loss term, no critic."""
    from verl.trainer.ppo.utils import need_critic

    actor = cfg.actor_rollout_ref.actor
    rollout = cfg.actor_rollout_ref.rollout
    report.check("config", "rollout.n > 1 (GRPO groups)", rollout.n > 1, rollout.n)
    report.check(
        "config",
        "KL as a loss, not in the reward",
        actor.use_kl_loss and not cfg.algorithm.use_kl_in_reward,
        f"kl_loss_coef={actor.kl_loss_coef}, kl_loss_type={actor.kl_loss_type}",
    )
    report.check("config", "no critic (need_critic)", not need_critic(cfg))


def check_ppo(report: Report, cfg: Any) -> None:
    """PPO: GAE with a critic from the actor's model, one completion per prompt, the KL in the
    reward (a reference policy), and the critic's batches the actor's."""
    from verl.trainer.ppo.utils import need_critic, need_reference_policy

    actor = cfg.actor_rollout_ref.actor
    critic = cfg.critic
    algorithm = cfg.algorithm
    report.check("config", "rollout.n == 1", cfg.actor_rollout_ref.rollout.n == 1)
    report.check("config", "critic enabled (need_critic)", need_critic(cfg))
    report.check(
        "config",
        "critic.model.path is the actor's model",
        critic.model.path == cfg.actor_rollout_ref.model.path,
        critic.model.path,
    )
    report.check(
        "config",
        "critic batches match the actor's",
        critic.ppo_mini_batch_size == actor.ppo_mini_batch_size
        and critic.ppo_micro_batch_size_per_gpu is not None
        and critic.strategy == actor.strategy,
        f"mini {critic.ppo_mini_batch_size}, micro/gpu {critic.ppo_micro_batch_size_per_gpu}, "
        f"{critic.strategy}, lr {critic.optim.lr}",
    )
    report.check(
        "config",
        "KL in the reward, not as a loss, with a reference policy",
        algorithm.use_kl_in_reward and not actor.use_kl_loss and need_reference_policy(cfg),
        f"kl_ctrl={algorithm.kl_ctrl.type} {algorithm.kl_ctrl.kl_coef}, "
        f"kl_penalty={algorithm.kl_penalty}",
    )
    from verl.utils.config import omega_conf_to_dataclass

    built = omega_conf_to_dataclass(critic)  # as veRL's trainer builds its critic worker
    report.check(
        "config",
        "veRL builds the critic config and its model config",
        type(built).__name__ == "FSDPCriticConfig"
        and type(built.model).__name__ == "HFModelConfig",
        f"{type(built).__name__}, model {type(built.model).__name__} at {built.model.local_path}",
    )
    report.check(
        "config",
        "GAE gamma / lam / critic_warmup",
        (algorithm.gamma, algorithm.lam, cfg.trainer.critic_warmup) == (1.0, 1.0, 0),
        f"{algorithm.gamma} / {algorithm.lam} / {cfg.trainer.critic_warmup}",
    )


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix[:-1]: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(flatten(value, f"{prefix}{key}."))
    return out or {prefix[:-1]: {}}


def check_script(report: Report, cfg: Any, export: Path) -> None:
    """run_ALGO.sh through main_ppo's Hydra entry point, printing its config (`--cfg job`)."""
    import yaml
    from omegaconf import OmegaConf

    script = export / f"run_{ALGOS.get(cfg.algorithm.adv_estimator)}.sh"
    scripts = sorted(path.name for path in export.glob("run_*.sh"))
    if not report.check(
        "script", f"{script.name} present, alone", scripts == [script.name], scripts
    ):
        return
    shell_vars = ("GPUS_PER_NODE", "NNODES", "ROLLOUT_TP", "PYTHON")
    env = {k: v for k, v in os.environ.items() if k not in shell_vars}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", str(script), "--cfg", "job"], env=env, capture_output=True, text=True, timeout=600
    )
    if not report.check(
        "script",
        f"main_ppo accepts {script.name}'s arguments",
        done.returncode == 0,
        "" if done.returncode == 0 else done.stderr.strip().splitlines()[-3:],
    ):
        return
    job = yaml.safe_load(done.stdout)
    ours = OmegaConf.to_container(cfg, resolve=False)
    flat_ours, flat_job = flatten(ours), flatten(job)
    diff = sorted(
        k for k in flat_ours.keys() | flat_job.keys() if flat_ours.get(k) != flat_job.get(k)
    )
    report.check("script", "main_ppo's config equals the composed one", not diff, diff or "")


def check_dataset(report: Report, cfg: Any, tokenizer: Any, export: Path, rows: int) -> list:
    import pyarrow.parquet as pq
    from verl.trainer.ppo.utils import create_rl_dataset
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.utils.tokenizer.tokenizer import normalize_token_ids

    table = pq.read_table(export / "train.parquet").to_pylist()
    dataset = create_rl_dataset(cfg.data.train_files, cfg.data, tokenizer, None, is_train=True)
    report.check(
        "dataset", "dataset class", isinstance(dataset, RLHFDataset), type(dataset).__name__
    )
    report.check(
        "dataset",
        "no row dropped (filter_overlong_prompts)",
        len(dataset) == len(table),
        f"{len(dataset)} of {len(table)} rows, max_prompt_length={cfg.data.max_prompt_length}",
    )
    items = []
    for i in range(min(rows, len(dataset))):
        item, source = dataset[i], table[i]
        messages = [{"role": m["role"], "content": m["content"]} for m in item["raw_prompt"]]
        expected = [{"role": m["role"], "content": m["content"]} for m in source["prompt"]]
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = normalize_token_ids(
            tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
        )
        decoded = tokenizer.decode(ids)
        problems = []
        if messages != expected:
            problems.append("raw_prompt differs from the parquet prompt")
        if decoded != text:
            problems.append("decoded ids differ from the chat-template text")
        if not all(m["content"] in decoded for m in expected):
            problems.append("a message's content is missing from the decoded prompt")
        if len(ids) > cfg.data.max_prompt_length:
            problems.append(f"{len(ids)} tokens > max_prompt_length")
        if item["data_source"] != source["data_source"]:
            problems.append("data_source differs")
        if not str(item["reward_model"].get("ground_truth", "")):
            problems.append("no reward_model.ground_truth")
        if item["index"] != source["extra_info"]["index"]:
            problems.append("index differs from extra_info.index")
        report.check(
            "dataset",
            f"row {i} decodes to its chat prompt",
            not problems,
            "; ".join(problems) or f"{len(ids)} prompt tokens",
        )
        items.append(item)
    return items


def wrong_answer(truth: str, extra: dict[str, Any]) -> str:
    kind = extra.get("kind")
    if kind == "choice":
        return next(c for c in (extra.get("letters") or "ABCDE") if c != truth.strip().upper())
    if kind == "yes_no":
        return "no" if truth.strip().lower() == "yes" else "yes"
    if kind == "label":
        return next(x for x in extra.get("labels") or ["none-of-these"] if x != truth)
    try:
        return f"{float(truth) + 1:g}"
    except ValueError:
        return f"{truth}+1" if kind == "math" else "none of these"


def check_reward(report: Report, cfg: Any, tokenizer: Any, items: list) -> None:
    import numpy as np
    import torch
    from verl import DataProto
    from verl.trainer.ppo.reward import get_custom_reward_fn, load_reward_manager

    fn = get_custom_reward_fn(cfg)
    ok = report.check(
        "reward",
        "get_custom_reward_fn loads reward.py",
        fn is not None,
        "" if fn is not None else "None: veRL would fall back to its default scorer",
    )
    if not ok:
        return
    manager = load_reward_manager(cfg, tokenizer)
    report.check("reward", "load_reward_manager", True, type(manager).__name__)

    def through_manager(item: dict, response: str) -> float:
        """veRL's reward-loop path: response ids -> decode -> compute_score(**kwargs)."""
        prompt = torch.tensor([tokenizer.eos_token_id or 0] * 4)
        ids = tokenizer(response, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        responses = torch.tensor([*ids, pad, pad])
        mask = torch.tensor([1] * (len(prompt) + len(ids)) + [0, 0])
        data = DataProto.from_dict(
            tensors={
                "prompts": prompt[None],
                "responses": responses[None],
                "attention_mask": mask[None],
            },
            non_tensors={
                key: np.array([item[key]], dtype=object)
                for key in ("data_source", "reward_model", "extra_info")
            },
        )
        return float(manager.loop.run_until_complete(manager.run_single(data))["reward_score"])

    for i, item in enumerate(items):
        truth = str(item["reward_model"]["ground_truth"])
        extra = dict(item["extra_info"])
        wrong = wrong_answer(truth, extra)
        scores = {}
        for label, answer in (("correct", truth), ("wrong", wrong)):
            response = CORRECT.format(answer)
            info = {**extra, "num_turns": None, "rollout_reward_scores": {}}  # as veRL adds them
            direct = fn(
                data_source=item["data_source"],
                solution_str=response,
                ground_truth=truth,
                extra_info=info,
            )
            scores[label] = (float(direct), through_manager(dict(item), response))
        (c_direct, c_managed), (w_direct, w_managed) = scores["correct"], scores["wrong"]
        report.check(
            "reward",
            f"row {i} ({extra.get('kind')}, gold {truth!r}, wrong {wrong!r})",
            c_direct >= 1.0 > w_direct and c_direct == c_managed and w_direct == w_managed,
            f"correct {c_direct} / manager {c_managed}, wrong {w_direct} / manager {w_managed}",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="folder written by `synthrl export verl`")
    parser.add_argument(
        "--tokenizer", help="local Hugging Face model folder (default: model.path if local)"
    )
    parser.add_argument(
        "--expect",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a composed value to check, e.g. actor_rollout_ref.rollout.n=16 (repeatable)",
    )
    parser.add_argument("--rows", type=int, default=8, help="rows to decode and score")
    args = parser.parse_args(argv)

    import verl

    export = args.export.resolve()
    print(f"veRL {verl.__version__} ({Path(verl.__file__).parent}); export {export}")
    report = Report()
    missing = [
        n for n in ("train.parquet", "reward.py", "overrides.txt") if not (export / n).is_file()
    ]
    if missing:
        report.check("export", "files present", False, f"missing {missing}")
        return 1

    try:
        cfg = check_config(report, export, args.expect)
    except Exception as exc:
        report.crash("config", exc)
        print(f"FAILED: {len(report.failed)} check(s): config does not compose")
        return 1

    try:
        check_script(report, cfg, export)
    except Exception as exc:
        report.crash("script", exc)

    from verl.utils import hf_tokenizer

    tokenizer_path = args.tokenizer or cfg.actor_rollout_ref.model.path
    if not Path(tokenizer_path).is_dir():
        report.check("dataset", "tokenizer", False, f"{tokenizer_path} is not a local folder")
        return 1
    tokenizer = hf_tokenizer(tokenizer_path)
    items: list = []
    try:
        items = check_dataset(report, cfg, tokenizer, export, args.rows)
    except Exception as exc:
        report.crash("dataset", exc)
    try:
        if items:
            check_reward(report, cfg, tokenizer, items)
    except Exception as exc:
        report.crash("reward", exc)

    if report.failed:
        print(f"FAILED: {len(report.failed)} of {len(report.failed) + report.passed} checks")
        for name in report.failed:
            print(f"  - {name}")
        return 1
    print(f"PASSED: {report.passed} checks against veRL {verl.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
