"""Presets, precedence (preset < task settings < --set) and override parsing."""

from __future__ import annotations

import pytest

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
