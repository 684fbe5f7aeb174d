"""The training section (synthrl.report.sections) on a hand-written train/metrics.jsonl: the
share of GRPO groups without learning signal as curves and as the run's mean, and what
`train.skip_settled` skipped."""

from __future__ import annotations

import json
from pathlib import Path

from synthrl.report import plots
from synthrl.report.data import RunData
from synthrl.report.sections import training

ROWS = [
    {"step": 1, "reward": 0.9, "frac_reward_zero_std": 1.0, "zero_signal_share": 1.0},
    {"step": 2, "reward": 0.5, "frac_reward_zero_std": 0.5, "zero_signal_share": 0.5},
    {"step": 3, "reward": 0.6, "frac_reward_zero_std": 0.25, "zero_signal_share": 0.5},
    {"step": 4, "reward": 0.7, "frac_reward_zero_std": 0.25, "zero_signal_share": 0.0},
]


def run_with(tmp_path: Path, rows: list[dict]) -> RunData:
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "manifest.json").write_text("{}")
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (tmp_path / "train" / "metrics.jsonl").write_text(text)
    return RunData(tmp_path)


def test_the_zero_signal_share_is_plotted_and_averaged_over_the_run(tmp_path: Path) -> None:
    counts = zip(ROWS, (0, 2, 3, 1), (0, 0, 1, 0), strict=True)
    skipping = [{**r, "skipped_prompts": s, "fallback_prompts": f} for r, s, f in counts]
    html = training(run_with(tmp_path, skipping))
    assert "frac_reward_zero_std): 50.0% on average over 4 steps" in html
    assert "by the answer checker&#x27;s verdict: 50.0% on average over 4 steps" in html
    assert "6 draws of settled prompts skipped, 1 settled prompts drawn anyway" in html
    assert '<td>frac_reward_zero_std</td><td class="num">1</td><td class="num">0.25</td>' in html
    titles = [ax.get_title() for ax in plots.training_figure(ROWS).axes if ax.get_visible()]
    assert titles == ["reward", "groups with zero reward std", "groups all correct or all wrong"]


def test_a_run_from_before_logs_no_share_and_shows_no_line(tmp_path: Path) -> None:
    html = training(run_with(tmp_path, [{"step": 1, "reward": 0.5}, {"step": 2, "reward": 0.7}]))
    assert "on average" not in html and "skip_settled" not in html
    assert "<img" in html
