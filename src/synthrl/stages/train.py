"""train: GRPO (or the SFT baseline) with TRL on the selected samples, or on a human-labelled
file (`train.data`) for the paper's "RL (Same)/(Whole)" rows. veRL runs are launched with
`synthrl train --engine verl` (see `synthrl.train.verl`).

Writes `train/model/` (Hugging Face format, LoRA merged), `train/checkpoints/` (resume points),
`train/metrics.jsonl` (per step: reward, reward_std, kl, completion_length, loss, learning_rate,
the shares of groups without learning signal; `train.skip_settled`: synthrl.train.settled).
A run killed mid-training resumes from its last checkpoint.
"""

from __future__ import annotations

import shutil
from typing import Any

from synthrl.artifacts import write_json
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.fingerprint import path_digest
from synthrl.llm.base import pure_sampling
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.scoring import NEVER_SOLVED
from synthrl.task import Task
from synthrl.train.data import rows_from_file, rows_from_selected
from synthrl.train.model_path import trainable_path
from synthrl.train.processes import is_main_process


def training_rows(ctx: StageContext) -> list[dict[str, Any]]:
    cfg = ctx.config.train
    if cfg.data:
        return rows_from_file(
            ctx.task, cfg.data, cfg.data_fields, cfg.algo, cfg.data_limit, cfg.seed
        )
    selected = ctx.run.rows("select", "selected.jsonl")
    if not selected:
        raise SynthRLError("the selection is empty: nothing to train on (see `synthrl status`).")
    if cfg.algo == "grpo" and all(s["pass_rate"] == 0 for s in selected):
        raise SynthRLError(NEVER_SOLVED)
    return rows_from_selected(ctx.task, selected, cfg.algo)


def run(ctx: StageContext) -> StageOutput:
    cfg = ctx.config.train
    if cfg.engine == "verl":
        raise SynthRLError(
            "train.engine=verl runs on a Ray cluster: `synthrl export verl RUN` writes the data, "
            "reward file and launch script; `synthrl train RUN --engine verl` starts it."
        )
    check_trackers(cfg.report_to)
    _discard_stale_checkpoints(ctx)
    rows = training_rows(ctx)
    model_path = trainable_path(ctx.config.models.base)
    if cfg.algo == "sft":
        from synthrl.train.trl_sft import train_sft

        summary = train_sft(model_path, rows, cfg, ctx.out_dir)
    else:
        from synthrl.train.trl_grpo import train_grpo

        start, warmed = warm_start(ctx, model_path)
        summary = train_grpo(start, rows, cfg, ctx.out_dir, ctx.task.answer.kind)
        summary["warmup_rows"] = warmed
    if is_main_process():
        sampler = {"temperature": cfg.temperature, **pure_sampling()}
        write_json(
            ctx.out_dir / "summary.json",
            {**summary, "rows": len(rows), "base": model_path, "rollout_sampler": sampler},
        )
    notes = [f"resumed from {summary['resumed_from']}"] if summary["resumed_from"] else []
    counts = {"rows": len(rows), "steps": summary["steps"]}
    if summary.get("warmup_rows"):
        counts["warmup_rows"] = summary["warmup_rows"]
        notes.append(f"format warm-start: SFT on {summary['warmup_rows']} synthetic samples")
    return StageOutput(counts, notes=notes)


def warm_start(ctx: StageContext, model_path: str) -> tuple[str, int]:
    """The model GRPO starts from: the base, or after `train.warmup_epochs` of SFT on the
    well-formatted verified samples (`train/warmup/model`; a finished warm-start is reused)."""
    cfg = ctx.config.train
    if not cfg.warmup_epochs or cfg.data:
        return model_path, 0
    from synthrl.train.trl_sft import train_sft
    from synthrl.train.warmup import warmup_config, warmup_rows

    rows = warmup_rows(ctx.task, ctx.run.rows("adapt", "samples.jsonl"))
    if not rows:
        return model_path, 0
    folder = ctx.out_dir / "warmup"
    if not (folder / "done").is_file():  # written after the model: a finished warm-start
        train_sft(model_path, rows, warmup_config(cfg), folder)
        if is_main_process():
            (folder / "done").write_text(str(len(rows)))
    return str(folder / "model"), len(rows)


def check_trackers(names: list[str]) -> None:
    """Fail before loading a model when a requested tracker is unknown or not installed (the
    preflight's check, again for `synthrl train RUN`)."""
    from synthrl.preflight import tracker_problems

    problems = tracker_problems(names)
    if problems:
        raise SynthRLError(problems[0])


def _discard_stale_checkpoints(ctx: StageContext) -> None:
    """Checkpoints from other settings must not be resumed: keep them only for this fingerprint.
    (Rank 0 only under accelerate; the other ranks find the folder as rank 0 leaves it.)"""
    if not is_main_process():
        return
    marker = ctx.out_dir / "fingerprint.txt"
    if marker.exists() and marker.read_text().strip() != ctx.fingerprint:
        shutil.rmtree(ctx.out_dir / "checkpoints", ignore_errors=True)
        shutil.rmtree(ctx.out_dir / "warmup", ignore_errors=True)
        (ctx.out_dir / "metrics.jsonl").unlink(missing_ok=True)
    marker.write_text(ctx.fingerprint)


SETTLED = {"skip_settled", "settle_window", "settle_steps"}


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    return {
        "base": config.models.base,
        # skip_settled's fields only when it is on: runs from before it keep their prints
        "train": config.train.model_dump(exclude=None if config.train.skip_settled else SETTLED),
        "data_content": path_digest(config.train.data),
        "task": task.fingerprint(),
    }


STAGE = Stage(
    "train",
    run,
    settings,
    inputs=("select", "adapt"),
    summary="GRPO with TRL (or SFT baseline)",
    models=("base",),
    prompts=("solve",),
    own_engine=True,
)
