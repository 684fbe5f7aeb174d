"""The whole pipeline end to end on the real embedded models (instructor 1.5B, base 0.5B), at a
tiny scale, through the CLI: keywords -> retrieve (embedded Wikipedia) -> pattern -> generate ->
verify -> probe -> adapt -> score -> select -> train (GRPO, LoRA, 2 steps) -> evaluate (real
GSM8K test items, base vs trained) -> `report`, then `status` and `export verl`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synthrl.stage_names import STAGE_NAMES
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
    "train.max_steps=2",
    "train.num_generations=4",
    "train.max_completion_tokens=24",
    "evaluate.limit=3",
    "evaluate.max_tokens=48",
]

STAGES = STAGE_NAMES


def test_every_stage_and_the_report_on_embedded_models(tmp_path: Path) -> None:
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
    assert set(manifests) == set(STAGES)
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
    for stage in STAGES:
        assert stage in status.stdout
    assert "not run" not in status.stdout

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

    metrics = [json.loads(x) for x in (out / "train" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "reward" in m] == [1, 2]
    results = json.loads((out / "evaluate" / "results.json").read_text())
    assert results["source"] == "benchmark gsm8k"
    assert results["base"]["items"] == results["trained"]["items"] == 3
    assert set(results["comparison"]) == {"strict", "lenient"}
    predictions = (out / "evaluate" / "predictions.jsonl").read_text().splitlines()
    assert len(predictions) == 6  # 3 items x 2 models, greedy: one seed

    report = subprocess.run(
        [sys.executable, "-m", "synthrl.cli", "report", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert report.returncode == 0, report.stderr[-3000:]
    check_report((out / "report" / "report.html").read_text(encoding="utf-8"))


def check_report(html: str) -> None:
    """Every section is present and built from this run's data; every plot decodes as a PNG."""
    import base64
    import io
    import re

    from PIL import Image

    from synthrl.report import SECTIONS

    for _, title, _ in SECTIONS:
        assert f">{title}</h2>" in html, title
    assert "not available" not in html  # no section fell back for want of an artifact
    sources = re.findall(r'<img[^>]*\ssrc="data:image/png;base64,([^"]+)"', html)
    assert len(sources) == 4  # difficulty, lengths, similarity, training curves
    for src in sources:
        with Image.open(io.BytesIO(base64.b64decode(src, validate=True))) as image:
            image.verify()
