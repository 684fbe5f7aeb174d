"""Base and trained model are evaluated on one engine at one precision; on a CPU, bases that come
from a GGUF are evaluated through llama.cpp with both models written as GGUF."""

from __future__ import annotations

import pytest

from synthrl.config import resolve_config
from synthrl.errors import SynthRLError
from synthrl.evaluate import engines


def test_auto_engine(monkeypatch) -> None:
    monkeypatch.setattr(engines, "_cuda", lambda: False)
    assert engines.engine_for(resolve_config("cpu")) == "llamacpp"  # embedded:base has a GGUF
    hf = resolve_config("cpu", overrides={"models": {"base": "hf:Qwen/Qwen2.5-0.5B"}})
    assert engines.engine_for(hf) == "transformers"
    vllm = resolve_config("cpu", overrides={"models": {"base": "vllm:Qwen/Qwen2.5-0.5B"}})
    assert engines.engine_for(vllm) == "vllm"
    monkeypatch.setattr(engines, "_cuda", lambda: True)
    assert engines.engine_for(resolve_config("cpu")) == "transformers"  # GPU: bf16 in-process


def test_llamacpp_needs_a_gguf_base() -> None:
    config = resolve_config(
        "cpu",
        overrides={"models": {"base": "hf:Qwen/Qwen2.5-0.5B"}, "evaluate": {"engine": "llamacpp"}},
    )
    with pytest.raises(SynthRLError, match="comes from a GGUF"):
        engines.engine_for(config)
