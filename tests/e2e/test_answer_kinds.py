"""Every answer kind a user writes works end to end on the real embedded models (issue 21): one
task per kind, written for these tests (tests/e2e/tasks, not the paper's), through `select` on
small settings. Each run must verify at least one sample whose label is a well-formed answer of
its kind (the one checker accepts it as its own gold), score it with the base model and select
from the scored set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from synthrl.stage_names import STAGE_NAMES

pytestmark = pytest.mark.slow

TASKS = Path(__file__).resolve().parent / "tasks"
KINDS = {
    "number": "unit_conversion",
    "math": "algebra",
    "choice": "science_choice",
    "yes_no": "lease_yes_no",
    "label": "review3",
    "text": "capitals",
}
SETTINGS = [
    "keywords.count=3",
    "keywords.max_tokens=96",
    "retrieve.per_keyword=1",
    "generate.n=3",
    "generate.max_tokens=256",
    "verify.k=1",  # one vote: every parsed sample reaches the later stages
    "verify.max_tokens=320",
    "probe.max_tokens=128",
    "adapt.max_tokens=256",
    "score.samples=2",
    "score.max_tokens=96",
    "select.m=1",
]
THROUGH_SELECT = STAGE_NAMES[: STAGE_NAMES.index("select") + 1]


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("kind", list(KINDS))
def test_answer_kind_through_select(kind: str, tmp_path: Path) -> None:
    from synthrl.answers.judge import equivalent
    from synthrl.task import load_task

    path = TASKS / f"{KINDS[kind]}.yaml"
    task = load_task(path)
    assert task.answer.kind == kind
    out = tmp_path / "run"
    command = [sys.executable, "-m", "synthrl.cli", "run", str(path), "--preset", "cpu"]
    command += ["--out", str(out), "--cache", str(tmp_path / "calls.sqlite"), "--to", "select"]
    for setting in SETTINGS:
        command += ["--set", setting]
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    finished = {p.parent.name for p in out.glob("*/manifest.json")}
    assert finished == set(THROUGH_SELECT), finished

    samples = rows(out / "adapt" / "samples.jsonl")
    assert samples, (
        f"no {kind} sample survived verification: {rows(out / 'verify' / 'dropped.jsonl')}"
    )
    for sample in samples:
        opts = task.checker_options(sample["input"])
        assert equivalent(sample["label"], sample["label"], kind, **opts), sample
    scores = rows(out / "score" / "scores.jsonl")
    assert len(scores) == len(samples) and all(1 <= s["attempts"] <= 2 for s in scores)
    assert len(rows(out / "select" / "selected.jsonl")) == 1
    inspect_verified(task, rows(out / "verify" / "samples.jsonl"))


def inspect_verified(task: Any, verified: list[dict[str, Any]]) -> None:
    """The verified samples as issue 21's acceptance reads them: no input carries reasoning
    tags, the answer format or its own answer, or lacks a labelled part of the input format;
    with two labels or more, none holds more than `verify.max_label_share` (0.5 under cpu)."""
    from synthrl.synthesis.balance import answer_values, label_counts, largest_share
    from synthrl.synthesis.checks import InputChecks, check_input

    checks = InputChecks.for_task(task, skip=["repeats_instructions", "near_empty_input"])
    for sample in verified:
        assert check_input(sample["input"], checks) is None, sample["input"]
    if task.answer.kind in ("label", "yes_no", "choice"):
        counts = label_counts(verified, answer_values(task))
        if sum(1 for c in counts.values() if c) >= 2:
            assert largest_share(counts) <= 0.5, counts
