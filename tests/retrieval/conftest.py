"""Fixtures for retrieval tests: an isolated SYNTHRL_HOME and small library files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def synthrl_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("SYNTHRL_HOME", str(home))
    return home


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [
    {"title": "Fraction", "text": "A fraction represents a part of a whole, like one half."},
    {"title": "Photosynthesis", "text": "Plants use photosynthesis to turn light into sugar."},
    {"title": "Volcano", "text": "A volcano is a rupture in the crust where lava escapes."},
    {"title": "Percentage", "text": "A percentage is a number expressed as a fraction of 100."},
]
