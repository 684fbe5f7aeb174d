"""Presets, precedence (preset < task settings < --set) and override parsing."""

from __future__ import annotations

import pytest
import yaml

from synthrl.config import PRESETS, parse_overrides, resolve_config
from synthrl.errors import TaskFileError


def test_paper_preset_matches_the_paper() -> None:
    c = resolve_config("paper")
    assert (c.generate.n, c.select.m, c.verify.k, c.score.samples) == (500, 500, 16, 64)
    assert c.generate.temperature == 0.7 and c.score.temperature == 0.7
    t = c.train
    assert (t.learning_rate, t.num_generations, t.prompts_per_step) == (1e-6, 16, 64)
    assert (t.max_completion_tokens, t.beta, t.epochs, t.temperature) == (2048, 0.01, 5, 1.2)


def test_cpu_preset_is_smaller_and_overridable() -> None:
    c = resolve_config("cpu")
    assert c.generate.n < 500 and c.score.adaptive and c.train.lora
    c2 = resolve_config(
        "cpu", {"generate": {"n": 7}}, parse_overrides(["generate.n=9", "train.lora=false"])
    )
    assert c2.generate.n == 9 and c2.train.lora is False
    c3 = resolve_config("cpu", {"generate": {"n": 7}})
    assert c3.generate.n == 7
    assert c3.verify.k == PRESETS["cpu"]["verify"]["k"]


def test_cpu_presets_keep_the_demo_contract() -> None:
    """`make demo` (cpu) and the long CPU run (cpu-long) evaluate on >= 100 / >= 300 real items,
    greedily (both models decode the same way); the format warm-start is ours, off in `paper`;
    cpu-long is cpu with more data and steps, everything else the same."""
    cpu, long, paper = resolve_config("cpu"), resolve_config("cpu-long"), resolve_config("paper")
    assert cpu.evaluate.limit == 100 and long.evaluate.limit == 300
    assert cpu.evaluate.temperature == long.evaluate.temperature == 0.0
    assert cpu.train.warmup_epochs > 0 and paper.train.warmup_epochs == 0
    assert paper.train.lenient_credit == 1.0 and not paper.verify.adaptive
    assert (long.generate.n, long.select.m) > (cpu.generate.n, cpu.select.m)
    assert long.train.max_steps > cpu.train.max_steps
    assert long.verify.check_arithmetic and long.train.lora
    assert long.model_copy(update={"preset": "cpu"}).keywords == cpu.keywords


def test_parse_overrides_types() -> None:
    assert parse_overrides(["a.b=3", "a.c=0.5", "d=true", "e=hi"]) == {
        "a": {"b": 3, "c": 0.5},
        "d": True,
        "e": "hi",
    }
    with pytest.raises(TaskFileError, match=r"section\.field=value"):
        parse_overrides(["generate.n"])


def test_unknown_preset_and_bad_values() -> None:
    with pytest.raises(TaskFileError, match=r"unknown preset 'gpu'"):
        resolve_config("gpu")
    with pytest.raises(TaskFileError, match=r"settings\.verify\.min_agreement"):
        resolve_config("paper", overrides={"verify": {"min_agreement": 2}})


def test_paper_preset_is_the_paper() -> None:
    """Section 5.1 / A.3: judging allows as many tokens as training, the reward is correctness
    only, and evaluation is 3 sampled runs (mean +- std)."""
    paper = resolve_config("paper")
    for section in (paper.probe, paper.score, paper.evaluate):
        assert section.max_tokens >= paper.train.max_completion_tokens
    assert paper.train.format_reward == 0
    assert paper.evaluate.temperature > 0 and len(paper.evaluate.seeds) == 3
    assert paper.quality.decontaminate_eval
    cpu = resolve_config("cpu")
    assert cpu.train.format_reward > 0 and cpu.evaluate.temperature == 0


def test_config_command_shows_the_paper_values() -> None:
    from typer.testing import CliRunner

    from synthrl.cli import app

    result = CliRunner().invoke(app, ["config", "--preset", "paper"])
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output)
    assert shown["probe"]["max_tokens"] == shown["train"]["max_completion_tokens"] == 2048
    assert shown["train"]["format_reward"] == 0
    assert shown["evaluate"]["seeds"] == [0, 1, 2] and shown["evaluate"]["temperature"] > 0
