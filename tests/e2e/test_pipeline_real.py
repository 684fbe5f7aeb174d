"""Every synthesis stage end to end on the real embedded models (instructor 1.5B, base 0.5B),
at a tiny scale: keywords -> retrieve (embedded Wikipedia) -> pattern -> generate -> verify ->
probe -> adapt -> score -> select, through the CLI, then `status` and `export verl`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow

SETTINGS = [
    "keywords.count=4",
    "retrieve.per_keyword=1",
    "generate.n=3",
    "generate.max_tokens=220",
    "verify.k=1",  # one vote: every parsed sample reaches the later stages
    "verify.max_tokens=384",
    "probe.max_tokens=160",
    "adapt.max_tokens=220",
    "score.samples=4",
    "score.max_tokens=128",
    "select.m=2",
]


def test_synthesis_stages_on_embedded_models(tmp_path: Path) -> None:
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "synthrl.cli",
        "run",
        str(EXAMPLES / "gsm8k-demos.yaml"),
        "--preset",
        "cpu",
        "--out",
        str(out),
        "--to",
        "select",
        "--cache",
        str(tmp_path / "calls.sqlite"),
    ]
    for setting in SETTINGS:
        command += ["--set", setting]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, "COLUMNS": "200"}
    )
    assert result.returncode == 0, result.stderr[-3000:]
    manifests = {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/manifest.json")}
    assert set(manifests) == {
        "keywords",
        "retrieve",
        "pattern",
        "generate",
        "verify",
        "probe",
        "adapt",
        "score",
        "select",
    }
    assert manifests["pattern"]["counts"]["pattern"] == 1  # the task has demos
    generated = [
        json.loads(x) for x in (out / "generate" / "samples.jsonl").read_text().splitlines()
    ]
    assert generated and all(s["input"] and s["passage_id"] for s in generated)
    synthetic = [json.loads(x) for x in (out / "adapt" / "samples.jsonl").read_text().splitlines()]
    assert synthetic and all(s["label"] is not None for s in synthetic)
    scores = [json.loads(x) for x in (out / "score" / "scores.jsonl").read_text().splitlines()]
    assert len(scores) == len(synthetic) and all(1 <= s["attempts"] <= 4 for s in scores)
    selected = (out / "select" / "selected.jsonl").read_text().splitlines()
    assert len(selected) == min(2, len(synthetic))
    usage = manifests["verify"]["usage"][0]
    assert usage["model"] == "embedded:instructor" and usage["completion_tokens"] > 0

    status = subprocess.run(
        [sys.executable, "-m", "synthrl.cli", "status", str(out)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert "not run" in status.stdout and "select" in status.stdout  # train has not run

    export = subprocess.run(
        [
            sys.executable,
            "-m",
            "synthrl.cli",
            "export",
            "verl",
            str(out),
            "--base",
            "hf:Qwen/Qwen2.5-0.5B",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert export.returncode == 0, export.stderr
    assert (out / "export" / "verl" / "train.parquet").is_file()
