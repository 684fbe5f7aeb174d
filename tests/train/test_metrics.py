"""`MetricsFile` (synthrl.train.metrics) adds a step's extra metrics (the share of groups
without signal, skip_settled's counters) to each row of train/metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from synthrl.train.metrics import MetricsFile
from synthrl.train.settled import SettledPrompts


def test_each_logged_step_gets_the_extra_metrics(tmp_path: Path) -> None:
    settled = SettledPrompts(2, window=1, cooldown=2)
    callback = MetricsFile(tmp_path / "metrics.jsonl", extra=settled.step_metrics)
    state = SimpleNamespace(global_step=1, is_world_process_zero=True)
    settled.record([(0, True), (0, True), (1, True), (1, False)], step=0)
    callback.on_log(None, state, None, logs={"reward": 0.5, "frac_reward_zero_std": 0.5})
    state.global_step = 2
    callback.on_log(None, state, None, logs={"train_runtime": 3.0})  # the final summary
    first, last = (json.loads(line) for line in (tmp_path / "metrics.jsonl").open())
    assert first["zero_signal_share"] == 0.5 and first["frac_reward_zero_std"] == 0.5
    assert "zero_signal_share" not in last  # no group since the last row
