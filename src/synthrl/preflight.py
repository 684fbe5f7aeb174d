"""Checks that run before the first model call, so a run never pays for synthesis and then
fails at a later stage on something knowable up front: an untrainable base when `train` is in
the plan, an impossible batch, `train.vllm` without vLLM or a GPU, `train.trl_args` that TRL
does not know, `train.report_to` trackers that are unknown or not installed, a missing evaluation
set, a `models.base_endpoint` that does not serve the base.
The forecast of what the run will cost is `synthrl.forecast`.

    problems = preflight(task, config, ["keywords", ..., "train", "evaluate"])
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence

from synthrl.config import RunConfig
from synthrl.endpoint import endpoint_problems, evaluation_endpoint_problems
from synthrl.errors import SynthRLError
from synthrl.task import Task
from synthrl.train.processes import world_size


def check_plan(task: Task, config: RunConfig, plan: Sequence[str]) -> None:
    """Raise SynthRLError listing every problem of running `plan` (stage names) as configured."""
    problems: list[str] = []
    if "train" in plan:
        problems += train_problems(config)
    evaluates_there = "evaluate" in plan and config.evaluate.trained_endpoint
    if {"probe", "score"} & set(plan) or evaluates_there:  # the stages asking base_endpoint
        problems += endpoint_problems(config)
    if "evaluate" in plan:
        problems += evaluation_endpoint_problems(config)
    decontaminates = config.quality.decontaminate_eval and {"generate", "adapt"} & set(plan)
    if "evaluate" in plan or decontaminates:
        problems += evaluation_problems(task, config)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise SynthRLError(f"nothing was run; fix these first:\n{listed}")


def train_problems(config: RunConfig) -> list[str]:
    """What would make the train stage fail, found without loading a model."""
    from synthrl.train.model_path import untrainable_reason

    cfg = config.train
    problems = []
    reason = untrainable_reason(config.models.base)
    if reason:
        problems.append(reason)
    per_pass = cfg.micro_batch_prompts * world_size()
    if cfg.prompts_per_step % per_pass:
        problems.append(
            f"train.prompts_per_step ({cfg.prompts_per_step}) must be a multiple of "
            f"train.micro_batch_prompts x processes ({cfg.micro_batch_prompts} x {world_size()})."
        )
    if not cfg.data and config.select.strategy != "all" and config.select.m < cfg.prompts_per_step:
        problems.append(
            f"select.m ({config.select.m}) is below train.prompts_per_step "
            f"({cfg.prompts_per_step}): one optimizer step needs that many prompts. Raise "
            "select.m or lower train.prompts_per_step."
        )
    if cfg.vllm and cfg.engine == "trl":
        problems += _vllm_problems()
    if cfg.skip_settled and cfg.engine != "trl":
        problems.append(
            "train.skip_settled works with train.engine=trl only (it replaces TRL's prompt "
            "sampler); set train.skip_settled=false for veRL."
        )
    if cfg.trl_args:
        problems += trl_args_problems(cfg.trl_args)
    if cfg.report_to:
        problems += tracker_problems(cfg.report_to)
    return problems


_TRACKER_MODULES = {"azure_ml": "azureml", "flyte": "flytekit"}


def tracker_problems(names: list[str]) -> list[str]:
    """`train.report_to` must name trackers the Hugging Face Trainer knows, installed here."""
    import difflib

    from transformers.integrations.integration_utils import (
        INTEGRATION_TO_CALLBACK,
        get_available_reporting_integrations,
    )

    known = sorted(INTEGRATION_TO_CALLBACK)
    installed = set(get_available_reporting_integrations())  # omits these two: by module
    installed |= {n for n, m in _TRACKER_MODULES.items() if importlib.util.find_spec(m)}
    problems = []
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, 1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(
                f"train.report_to names {name!r}{hint}, which the Hugging Face Trainer does not "
                f"know; it takes: {', '.join(known)}."
            )
        elif name not in installed:
            extra = "'synthrl[tracking]'" if name in ("tensorboard", "wandb") else "its package"
            problems.append(
                f"train.report_to names {name}, which is not installed: pip install {extra} "
                "(or drop it from train.report_to)."
            )
    return problems


def trl_args_problems(args: dict[str, object]) -> list[str]:
    """`train.trl_args` must name fields of TRL's GRPOConfig."""
    import dataclasses

    from trl import GRPOConfig

    known = {f.name for f in dataclasses.fields(GRPOConfig)}
    unknown = sorted(set(args) - known)
    if not unknown:
        return []
    import difflib

    hints = [
        f"{name} (did you mean {close[0]}?)"
        if (close := difflib.get_close_matches(name, known, 1))
        else name
        for name in unknown
    ]
    return [f"train.trl_args names no GRPOConfig field: {', '.join(hints)}."]


def _vllm_problems() -> list[str]:
    if importlib.util.find_spec("vllm") is None:
        return [
            "train.vllm is on but vLLM is not installed: pip install 'synthrl[gpu]' on a GPU "
            "machine, or set train.vllm=false."
        ]
    import torch

    if not torch.cuda.is_available():
        return ["train.vllm is on but no CUDA GPU is visible; set train.vllm=false on a CPU."]
    return []


def evaluation_problems(task: Task, config: RunConfig) -> list[str]:
    """The task's evaluation set must load (a missing benchmark with no fallback fails here):
    the evaluate stage measures on it and generation is checked against it for contamination."""
    from synthrl.evaluate.engines import engine_for
    from synthrl.evaluate.loaders import task_items

    try:
        task_items(task, config.evaluate.limit)
    except SynthRLError as err:
        return [f"the evaluation set cannot be read: {err}"]
    try:
        engine_for(config)
    except SynthRLError as err:
        return [str(err)]
    return []
