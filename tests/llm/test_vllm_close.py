"""The vLLM backend with a stand-in `vllm` module (vLLM needs a GPU): its cache name carries
the weights tag, every sampling knob is explicit, and `close()` frees the engine once."""

from __future__ import annotations

import gc
import sys
import types
import weakref
from pathlib import Path
from typing import Any

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import Request
from synthrl.llm.vllm_backend import VLLMBackend, cache_name


class FakeEngine:
    """Stands in for vllm.LLM."""

    shutdowns = 0

    def __init__(self, model: str, seed: int = 0, **kwargs: Any) -> None:
        self.model, self.kwargs = model, kwargs

    def shutdown(self) -> None:
        type(self).shutdowns += 1


@pytest.fixture
def vllm(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """Fake `vllm`, `vllm.distributed` and `vllm.distributed.parallel_state` modules."""
    calls = types.SimpleNamespace(cleanups=0)
    root = types.ModuleType("vllm")
    root.LLM = FakeEngine  # type: ignore[attr-defined]
    root.SamplingParams = dict  # type: ignore[attr-defined]
    distributed = types.ModuleType("vllm.distributed")
    state = types.ModuleType("vllm.distributed.parallel_state")

    def cleanup() -> None:
        calls.cleanups += 1

    state.cleanup_dist_env_and_memory = cleanup  # type: ignore[attr-defined]
    distributed.parallel_state = state  # type: ignore[attr-defined]
    root.distributed = distributed  # type: ignore[attr-defined]
    for name, module in (
        ("vllm", root),
        ("vllm.distributed", distributed),
        ("vllm.distributed.parallel_state", state),
    ):
        monkeypatch.setitem(sys.modules, name, module)
    FakeEngine.shutdowns = 0
    return calls


def test_cache_name_carries_the_weights_tag(tmp_path: Path, vllm: types.SimpleNamespace) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    backend = VLLMBackend(str(folder), max_model_len=1024)
    assert backend.model == cache_name(str(folder), 1024) and "@" in backend.model
    assert backend.engine.kwargs["max_model_len"] == 1024
    assert VLLMBackend("Qwen/Qwen2.5-0.5B").model == "Qwen/Qwen2.5-0.5B"


def test_close_frees_the_engine_once(vllm: types.SimpleNamespace) -> None:
    backend = VLLMBackend("Qwen/Qwen2.5-0.5B")
    engine = weakref.ref(backend.engine)
    backend.close()
    gc.collect()
    assert engine() is None and backend.engine is None
    assert FakeEngine.shutdowns == 1 and vllm.cleanups == 1
    backend.close()  # idempotent
    assert FakeEngine.shutdowns == 1 and vllm.cleanups == 1
    with pytest.raises(SynthRLError, match="closed"):
        backend.generate([Request(prompt="p")], lambda i, r: None)


def test_close_without_llm_shutdown_stops_the_engine_core(
    vllm: types.SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Older V1 releases have no LLM.shutdown(): the engine core client is shut down."""
    core = types.SimpleNamespace(stopped=0)
    core.shutdown = lambda: setattr(core, "stopped", core.stopped + 1)
    monkeypatch.delattr(FakeEngine, "shutdown")
    backend = VLLMBackend("m")
    backend.engine.llm_engine = types.SimpleNamespace(engine_core=core)
    backend.close()
    assert core.stopped == 1 and vllm.cleanups == 1


def test_sampling_knobs_are_explicit() -> None:
    from synthrl.llm.vllm_backend import sampling_kwargs

    plain = sampling_kwargs(Request(prompt="p", temperature=0.7))
    assert (plain["top_k"], plain["top_p"], plain["min_p"], plain["repetition_penalty"]) == (
        -1,
        1.0,
        0.0,
        1.0,
    )
    assert sampling_kwargs(Request(prompt="p", top_k=20, min_p=0.1))["top_k"] == 20
