"""The forecast: request and token counts per stage from the configuration, hours from the
engines' speeds, USD from the price table, the verdict that stops `synthrl run` (paper preset on
the embedded CPU models: stopped; the cpu preset: not), and stages already done skipped."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from synthrl import forecast as fc_module
from synthrl.config import resolve_config
from synthrl.forecast import EMBEDDED_SPEEDS, TRAIN_S_PER_TOKEN_CPU, forecast
from synthrl.stage_names import STAGE_NAMES
from synthrl.task import load_task
from tests.conftest import EXAMPLES, GOOD_TASK


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fc_module.os, "cpu_count", lambda: 2)  # the speeds measured on 2 cores


def rows_by(fc, stage: str):
    return [r for r in fc.rows if r.stage == stage]


def test_paper_preset_counts_and_hours(write_task) -> None:
    task = load_task(write_task(GOOD_TASK))  # no evaluation set
    config = resolve_config("paper")
    fc = forecast(task, config, STAGE_NAMES, has_gpu=False)
    n, k, big_l, m = 500, 16, 64, 500
    (verify,) = rows_by(fc, "verify")
    assert (verify.requests, verify.samples, verify.completion_tokens) == (n, n * k, n * k * 1024)
    (score,) = rows_by(fc, "score")
    assert score.samples == 2 * n * big_l and score.completion_tokens == 2 * n * big_l * 2048
    base = EMBEDDED_SPEEDS["base"]
    prefill = score.prompt_tokens / base.prefill
    assert score.seconds == pytest.approx(score.completion_tokens / base.sampled + prefill)
    (probe,) = rows_by(fc, "probe")  # greedy, one at a time
    assert probe.seconds > probe.completion_tokens / base.sampled
    (train,) = rows_by(fc, "train")
    steps = math.ceil(m / 64) * 5
    assert train.requests == steps and train.completion_tokens == steps * 64 * 16 * 2048
    assert train.seconds == pytest.approx(train.completion_tokens * TRAIN_S_PER_TOKEN_CPU)
    assert [r.stage for r in rows_by(fc, "adapt")] == ["adapt", "adapt"]  # rewrites and votes
    assert not rows_by(fc, "pattern") and not rows_by(fc, "evaluate")  # no demos, no eval set
    assert fc.hours == pytest.approx(sum(r.seconds for r in fc.rows) / 3600)
    assert fc.too_long and fc.hours > 1000  # months on 2 cores
    assert any("estimates" in note for note in fc.notes)


def test_cpu_preset_is_within_reach() -> None:
    task = load_task(EXAMPLES / "gsm8k.yaml")
    fc = forecast(task, resolve_config("cpu", task.settings), STAGE_NAMES, has_gpu=False)
    # an upper bound (every completion at its max_tokens); measured in docs/benchmarks.md
    assert not fc.too_long and fc.hours < 2
    (evaluate,) = rows_by(fc, "evaluate")
    assert evaluate.requests == 2 * 100  # 100 items, greedy, base and trained


def test_api_instructor_priced_from_the_table_and_unknown_prices(write_task) -> None:
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu", overrides={"models": {"instructor": "openai:gpt-4o"}})
    fc = forecast(task, config, ["keywords"], has_gpu=False)
    (row,) = fc.rows
    assert row.usd == pytest.approx((row.prompt_tokens * 2.5 + row.completion_tokens * 10) / 1e6)
    served = "openai:http://127.0.0.1:9/v1#my-model"
    config = resolve_config("cpu", overrides={"models": {"instructor": served}})
    unknown = forecast(task, config, ["keywords"], has_gpu=False)
    assert unknown.rows[0].usd is None and unknown.usd_text == "unknown"


def test_plan_forecast_skips_finished_stages(write_task, tmp_path: Path) -> None:
    from synthrl.artifacts import RunDir
    from synthrl.forecast import plan_forecast
    from synthrl.pipeline import fingerprint
    from synthrl.stages import STAGES

    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu")
    run = RunDir(tmp_path / "run")
    keywords = STAGES[0]
    run.begin("keywords")
    run.finish("keywords", {"fingerprint": fingerprint(keywords, task, config, run)})
    fc = plan_forecast(task, config, run, stop="generate")
    assert fc.done == ["keywords"] and [r.stage for r in fc.rows] == ["generate"]
    assert plan_forecast(task, config, run, stop="generate", force=True).done == []


def test_stage_names_match_the_pipeline() -> None:
    from synthrl.stages import STAGES

    assert tuple(s.name for s in STAGES) == STAGE_NAMES


def test_generation_switches_drop_the_calls_they_skip() -> None:
    """No retrieval: no keyword call and no passage in the generation prompt; no pattern: no
    pattern call (the task has demos)."""
    task = load_task(EXAMPLES / "gsm8k-demos.yaml")
    names = STAGE_NAMES

    def plan(**overrides):
        return forecast(task, resolve_config("cpu", overrides=overrides), names, has_gpu=False)

    default = plan()
    assert rows_by(default, "keywords") and rows_by(default, "pattern")
    off = plan(retrieve={"enabled": False}, pattern={"enabled": False})
    assert not rows_by(off, "keywords") and not rows_by(off, "pattern")
    (generate,), (before,) = rows_by(off, "generate"), rows_by(default, "generate")
    assert generate.requests == before.requests
    assert generate.prompt_tokens < before.prompt_tokens  # no passage


def test_audit_forecast_counts_every_vote_and_names_the_cpu_preset() -> None:
    from synthrl.run import _audit_forecast

    task = load_task(EXAMPLES / "gsm8k.yaml")
    items = list(range(100))
    paper = _audit_forecast(task, resolve_config("paper", task.settings), items, True)
    votes, base = paper.rows
    # the audit draws all k votes (adaptive or not) and one greedy base answer per item
    assert (votes.requests, votes.samples, votes.completion_tokens) == (100, 1600, 1600 * 1024)
    assert (base.requests, base.samples, base.model) == (100, 100, "embedded:base")
    assert paper.hours > 10 and any("`--preset cpu` votes k = 3" in n for n in paper.notes)
    cpu = _audit_forecast(task, resolve_config("cpu", task.settings), items, False)
    (cpu_votes,) = cpu.rows
    assert cpu_votes.samples == 300 and cpu_votes.completion_tokens == 300 * 320
    assert not cpu.notes and cpu.hours < paper.hours / 10
