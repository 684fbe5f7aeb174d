"""One sampling distribution for scoring, probing and rollouts: every backend is handed the
request's top-k / top-p / min-p (default: off) and no repetition penalty, TRL's rollouts get the
same, and `sampler_settings()` says what each backend applies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import LLM, Ledger, Request
from synthrl.llm.base import pure_sampling
from synthrl.llm.fake import FakeBackend
from synthrl.llm.llamacpp_batch import BatchedSampler
from synthrl.llm.openai_backend import OpenAIBackend
from tests.llm.loopback import StubServer

PURE = {"top_k": 0, "top_p": 1.0, "min_p": 0.0, "repetition_penalty": 1.0}


def test_default_is_pure_temperature_sampling() -> None:
    assert pure_sampling() == PURE
    settings = FakeBackend().sampler_settings(Request(prompt="p", temperature=0.7))
    assert settings == {"backend": "fake", "model": "fake", "temperature": 0.7, **PURE}


def test_trl_rollouts_sample_like_the_stages(tmp_path: Path) -> None:
    from synthrl.config import resolve_config
    from synthrl.train.trl_grpo import grpo_args

    args = grpo_args(resolve_config("paper").train, tmp_path, n_prompts=500)
    assert {name: getattr(args, name) for name in PURE} == PURE


class _RecordingLlama:
    """Stands in for llama_cpp.Llama: records create_completion's arguments."""

    def __init__(self, model_path: str, n_ctx: int, **kwargs: Any) -> None:
        self.metadata: dict[str, str] = {}
        self.calls: list[dict[str, Any]] = []

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        return list(range(len(text.split())))

    def create_completion(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {
            "choices": [{"text": "ok", "finish_reason": "stop"}],
            "usage": {"completion_tokens": 1},
        }


def test_llamacpp_completion_gets_every_knob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    from synthrl.llm.llamacpp_backend import LlamaCppBackend

    monkeypatch.setattr(llama_cpp, "Llama", _RecordingLlama)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    backend = LlamaCppBackend(gguf, "gguf:m", n_ctx=512, parallel=1)
    LLM(backend, None, Ledger(), "m", show_progress=False).generate(
        [Request(prompt="a b", temperature=0.7), Request(prompt="c", temperature=0.7, top_k=5)],
        stage="t",
    )
    pure, five = backend.engine.calls
    assert (pure["top_k"], pure["top_p"], pure["min_p"], pure["repeat_penalty"]) == (0, 1, 0, 1)
    assert five["top_k"] == 5


class _ChainLib:
    """Records the samplers a chain is built from (stands in for llama_cpp's C API)."""

    def __init__(self) -> None:
        self.added: list[tuple[str, Any]] = []

    def llama_sampler_chain_default_params(self) -> None:
        return None

    def llama_sampler_chain_init(self, params: None) -> str:
        return "chain"

    def llama_sampler_chain_add(self, chain: str, sampler: tuple[str, Any]) -> None:
        self.added.append(sampler)

    def __getattr__(self, name: str) -> Any:  # llama_sampler_init_top_k(40) -> ("top_k", 40)
        kind = name.removeprefix("llama_sampler_init_")
        return lambda value, *rest: (kind, getattr(value, "value", value))


def test_batched_llamacpp_chain_follows_the_request() -> None:
    sampler = BatchedSampler.__new__(BatchedSampler)
    sampler.lib = _ChainLib()
    sampler._sampler(Request(prompt="p", temperature=0.7), seed=3)
    assert sampler.lib.added == [("temp", 0.7), ("dist", 3)]  # no top-k 40 / min-p 0.05
    sampler.lib = _ChainLib()
    sampler._sampler(Request(prompt="p", temperature=0.7, top_k=40, top_p=0.9, min_p=0.05), 3)
    assert [kind for kind, _ in sampler.lib.added] == ["top_k", "top_p", "min_p", "temp", "dist"]


def test_openai_sends_top_k_only_to_self_hosted_servers() -> None:
    chat = [{"role": "user", "content": "hi"}]
    with StubServer(lambda body: ["ok"]) as server:
        backend = OpenAIBackend("m", server.url, "EMPTY")
        llm = LLM(backend, None, Ledger(), "m", show_progress=False)
        llm.generate([Request.chat(chat, temperature=1.0)], stage="t")
        llm.generate([Request.chat(chat, temperature=1.0, top_k=20, min_p=0.1)], stage="t")
        plain, tuned = server.bodies
    assert "top_k" not in plain and "min_p" not in plain and plain["top_p"] == 1.0
    assert (tuned["top_k"], tuned["min_p"]) == (20, 0.1)
    assert backend.sampler_settings()["top_k"] == "server default"
    assert backend.sampler_settings(Request(prompt="p", top_k=20))["top_k"] == 20
    official = OpenAIBackend("gpt-4o", None, "sk-test")
    with pytest.raises(SynthRLError, match="top_k"):
        official.generate([Request.chat(chat, top_k=20)], lambda i, r: None)
