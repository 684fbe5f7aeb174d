"""Shared fixtures: the embedded models (prepared once under the user's SYNTHRL_HOME and reused
across sessions), the benchmark folder beside the repo, task files; no hub downloads."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
EXAMPLES = REPO / "examples" / "tasks"


@pytest.fixture
def benchmarks() -> Path:
    if not BENCHMARKS.is_dir():
        pytest.fail(f"real benchmark data expected at {BENCHMARKS} (../shared/benchmarks)")
    return BENCHMARKS


@pytest.fixture
def write_task(tmp_path: Path):
    """Write a task file from text and return its path."""

    def write(text: str, name: str = "task.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


GOOD_TASK = """\
name: arith
description: Solve grade-school arithmetic word problems step by step.
output_format: "Let's think step by step and output the final answer after ####."
answer:
  kind: number
"""


@pytest.fixture(scope="session")
def base_gguf() -> Path:
    """The embedded base model's GGUF, assembled and verified once (cached across runs)."""
    from synthrl.models import prepare_gguf

    return prepare_gguf("base")


def pytest_configure(config: pytest.Config) -> None:
    """No test may download from a model hub: the embedded models come from PyPI packages."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
