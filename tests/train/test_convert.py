"""GGUF -> Hugging Face conversion is crash-safe: a folder at the target is always complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthrl.train import convert


def test_a_conversion_killed_midway_leaves_no_target(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "base-hf"

    def dies_after_config(gguf: Path, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True)
        (out_dir / "config.json").write_text("{}")  # save_pretrained writes this first ...
        raise KeyboardInterrupt  # ... and is killed before the weights

    monkeypatch.setattr(convert, "gguf_to_hf", dies_after_config)
    with pytest.raises(KeyboardInterrupt):
        convert.convert_once(tmp_path / "m.gguf", target)
    assert not target.exists()  # the old code left target/config.json: "done" forever

    def completes(gguf: Path, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True)
        (out_dir / "model.safetensors").write_bytes(b"weights")
        (out_dir / "config.json").write_text("{}")
        return out_dir

    monkeypatch.setattr(convert, "gguf_to_hf", completes)
    assert convert.convert_once(tmp_path / "m.gguf", target) == target
    assert (target / "model.safetensors").read_bytes() == b"weights"
    assert not list(tmp_path.glob("*.partial-*"))


def test_the_gguf_path_of_a_trained_base_uses_the_crash_safe_conversion(
    tmp_path: Path, monkeypatch
) -> None:
    from synthrl.train import model_path

    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    seen: list[Path] = []
    monkeypatch.setattr(convert, "convert_once", lambda g, t: seen.append(t) or t)
    monkeypatch.setattr(model_path, "home", lambda: tmp_path)
    assert model_path.trainable_path(f"gguf:{gguf}") == str(seen[0])
