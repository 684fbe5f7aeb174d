"""train: GRPO (or the SFT baseline) with TRL on the selected samples, or on a human-labelled
file (`train.data`) for the paper's "RL (Same)/(Whole)" rows. veRL runs are launched with
`synthrl train --engine verl` (see `synthrl.train.verl`).

Writes `train/model/` (Hugging Face format, LoRA merged), `train/checkpoints/` (resume points),
`train/metrics.jsonl` (per step: reward, reward_std, kl, completion_length, loss, learning_rate).
A run killed mid-training resumes from its last checkpoint.
"""

from __future__ import annotations

import importlib.util
import shutil
from typing import Any

from synthrl.artifacts import write_json
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.stages.select import NEVER_SOLVED
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

        summary = train_grpo(model_path, rows, cfg, ctx.out_dir, ctx.task.answer.kind)
    if is_main_process():
        write_json(ctx.out_dir / "summary.json", {**summary, "rows": len(rows), "base": model_path})
    notes = [f"resumed from {summary['resumed_from']}"] if summary["resumed_from"] else []
    return StageOutput({"rows": len(rows), "steps": summary["steps"]}, notes=notes)


def check_trackers(names: list[str]) -> None:
    """Fail before loading a model when a requested tracker is not installed."""
    for name in names:
        if importlib.util.find_spec(name) is None:
            raise SynthRLError(
                f"train.report_to names {name}, which is not installed: "
                "pip install 'synthrl[tracking]' (or drop it from train.report_to)."
            )


def _discard_stale_checkpoints(ctx: StageContext) -> None:
    """Checkpoints from other settings must not be resumed: keep them only for this fingerprint.
    (Rank 0 only under accelerate; the other ranks find the folder as rank 0 leaves it.)"""
    if not is_main_process():
        return
    marker = ctx.out_dir / "fingerprint.txt"
    if marker.exists() and marker.read_text().strip() != ctx.fingerprint:
        shutil.rmtree(ctx.out_dir / "checkpoints", ignore_errors=True)
        (ctx.out_dir / "metrics.jsonl").unlink(missing_ok=True)
    marker.write_text(ctx.fingerprint)


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    return {
        "base": config.models.base,
        "train": config.train.model_dump(),
        "task": task.fingerprint(),
    }


STAGE = Stage("train", run, settings, inputs=("select",), summary="GRPO with TRL (or SFT baseline)")
