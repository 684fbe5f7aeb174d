"""Trainer callbacks: `MetricsFile` appends each logged step's metrics to a JSON Lines file (for
`status` and the report): reward mean/std, KL, completion length, loss, learning rate, the share
of groups without signal; `StateFile` saves a state beside each checkpoint;
`StepProgress` replaces transformers' tqdm bar and printed log dicts with one rich progress line."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback, ProgressCallback

from synthrl.llm.client import progress_bar

KEEP = {
    "loss": "loss",
    "learning_rate": "learning_rate",
    "reward": "reward",
    "reward_std": "reward_std",
    "kl": "kl",
    "completions/mean_length": "completion_length",
    "grad_norm": "grad_norm",
    "entropy": "entropy",
    "completions/clipped_ratio": "clipped_ratio",
    "frac_reward_zero_std": "frac_reward_zero_std",
}


class MetricsFile(TrainerCallback):
    """Write {step, epoch, seconds, <metrics>} per logging step to `path`. A resumed run drops
    the rows logged after its checkpoint and continues the clock where they left off. `extra`
    returns further metrics of the step (e.g. `SettledPrompts.step_metrics`), added to each row."""

    def __init__(self, path: Path, extra: Callable[[], dict[str, float]] | None = None) -> None:
        self.path = path
        self.extra = extra
        self.started = time.time()

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not self.path.is_file():
            return
        rows = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:  # a line cut off by the kill
                continue
        kept = [r for r in rows if r.get("step", 0) <= state.global_step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
        self.started = time.time() - (kept[-1].get("seconds", 0.0) if kept else 0.0)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if not logs or not state.is_world_process_zero:
            return
        row: dict[str, Any] = {"step": state.global_step, "epoch": logs.get("epoch")}
        for key, value in logs.items():
            name = KEEP.get(key) or (key.replace("/", "_") if key.startswith("rewards/") else None)
            if name is not None and isinstance(value, int | float):
                row[name] = value
        if self.extra is not None:
            row.update(self.extra())
        row["seconds"] = round(time.time() - self.started, 2)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")


class StateFile(TrainerCallback):
    """Write `state()` as JSON to `name` in each checkpoint folder the Trainer saves, so a run
    resumed from that checkpoint can continue from it."""

    def __init__(self, name: str, state: Callable[[], Any]) -> None:
        self.name, self.state = name, state

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if state.is_world_process_zero and folder.is_dir():
            (folder / self.name).write_text(json.dumps(self.state()), encoding="utf-8")


class StepProgress(TrainerCallback):
    """One progress line: step n/N, elapsed time, and the last step's reward (GRPO) or loss."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.task: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            self.bar = progress_bar(transient=False)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=state.max_steps)
            self.bar.update(self.task, completed=state.global_step)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if self.bar is None or not logs:
            return
        shown = [f"{k} {logs[k]:.3g}" for k in ("reward", "kl", "loss") if k in logs]
        if shown:
            self.bar.update(self.task, description=f"{self.label} ({', '.join(shown)})")

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def quiet_progress(trainer: Any, label: str) -> None:
    """Swap the Trainer's tqdm bar and printed log dicts for a `StepProgress` line."""
    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(StepProgress(label))
