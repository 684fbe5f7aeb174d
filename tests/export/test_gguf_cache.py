"""The GGUF cache of trained models keeps only the most recently used conversions (every
training run adds one of about 0.5 GB)."""

from __future__ import annotations

import os
from pathlib import Path

from synthrl.export.gguf import evict_stale


def test_only_the_most_recent_conversions_are_kept(tmp_path: Path) -> None:
    for i in range(5):
        path = tmp_path / f"model-{i}-q8_0.gguf"
        path.write_bytes(b"GGUF")
        os.utime(path, (1_000 + i, 1_000 + i))
    (tmp_path / "notes.txt").write_text("not a conversion")
    removed = evict_stale(tmp_path, 3)
    assert sorted(p.name for p in removed) == ["model-0-q8_0.gguf", "model-1-q8_0.gguf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model-2-q8_0.gguf",
        "model-3-q8_0.gguf",
        "model-4-q8_0.gguf",
        "notes.txt",
    ]
    assert evict_stale(tmp_path, 3) == []
