"""The call cache's keys name everything that changes an answer: the endpoint of an
OpenAI-compatible server, local weights, the context length of in-process engines, and the
sampler's knobs; and the keys of requests older synthrl versions cached are unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synthrl.llm import LLM, CallCache, Ledger, Request, open_backend
from synthrl.llm.vllm_backend import cache_name
from tests.llm.loopback import StubServer

CHAT = [{"role": "user", "content": "What is 2 + 3?"}]


def test_keys_of_requests_without_the_new_fields_are_unchanged() -> None:
    """Digests computed by synthrl before `top_k` / `min_p` existed: old caches stay valid."""
    request = Request.chat(CHAT, n=3, temperature=0.7, max_tokens=64, stop=("</answer>",), seed=4)
    assert request.sample_key("openai", "gpt-4o", 2) == (
        "d16e1a093161e12a16cb7e43ddecebe0f971c184d1e9272311719d93d68c6dc6"
    )
    assert Request(prompt="p").sample_key("llamacpp", "embedded:base@abc", 0) == (
        "28e019f24aacf5582a43c47487004f494c0de96b83189bf6a19c65613f1043f7"
    )


def test_sampler_knobs_enter_the_key_when_set() -> None:
    keys = {
        Request(prompt="p", temperature=1.0, **knob).sample_key("b", "m", 0)
        for knob in ({}, {"top_k": 40}, {"min_p": 0.05}, {"top_p": 0.9})
    }
    assert len(keys) == 4
    assert Request(prompt="p", top_k=40).with_samples(2, 3).top_k == 40


def test_two_servers_without_a_model_name_never_share_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cache = CallCache(tmp_path / "c.sqlite")
    request = Request.chat(CHAT)
    with StubServer(lambda body: ["from a"]) as a, StubServer(lambda body: ["from b"]) as b:
        first = LLM(open_backend(f"openai:{a.url}"), cache, Ledger(), "a", show_progress=False)
        second = LLM(open_backend(f"openai:{b.url}"), cache, Ledger(), "b", show_progress=False)
        assert first.generate([request], stage="t")[0].texts == ["from a"]
        answer = second.generate([request], stage="t")[0]
        assert answer.texts == ["from b"] and not answer.samples[0].cached
        assert first.generate([request], stage="t")[0].samples[0].cached
        assert [body["model"] for body in a.bodies + b.bodies] == ["default", "default"]
    assert len(cache) == 2


def test_openai_model_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    official = open_backend("openai:gpt-4o")
    assert (official.model, official.priced_as) == ("gpt-4o", "gpt-4o")  # old keys stay valid
    served = open_backend("openai:http://127.0.0.1:9/v1/#qwen")
    assert served.model == "http://127.0.0.1:9/v1#qwen" and served.priced_as == "qwen"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://proxy:8000/v1")
    assert open_backend("openai:gpt-4o").model == "http://proxy:8000/v1#gpt-4o"


def test_cost_is_priced_by_the_served_model_name() -> None:
    """A self-hosted endpoint is priced by the served name from the user's price file; with no
    price known its cost is unknown (never $0)."""
    with StubServer(lambda body: ["ok"]) as server:
        backend = open_backend(f"openai:{server.url}#gpt-4o")
        priced, unpriced = Ledger({"gpt-4o": (2.5, 10.0)}), Ledger()
        for ledger in (priced, unpriced):
            LLM(backend, None, ledger, "x", show_progress=False).generate(
                [Request.chat(CHAT)], stage="t"
            )
    assert priced.by_stage("t").cost_usd > 0 and priced.by_stage("t").usd.startswith("$")
    assert unpriced.by_stage("t").usd == "unknown" and unpriced.by_stage("t").unpriced_tokens


class _FakeLlama:
    """Stands in for llama_cpp.Llama: no chat template, records the context length."""

    def __init__(self, model_path: str, n_ctx: int, **kwargs: Any) -> None:
        self.n_ctx = n_ctx
        self.metadata: dict[str, str] = {}


def test_llamacpp_context_length_is_part_of_the_model_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import llama_cpp

    from synthrl.llm.llamacpp_backend import LlamaCppBackend

    monkeypatch.setattr(llama_cpp, "Llama", _FakeLlama)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    short = LlamaCppBackend(gguf, "gguf:m", n_ctx=2048)
    long = LlamaCppBackend(gguf, "gguf:m", n_ctx=4096)
    assert (short.model, long.model) == ("gguf:m#plain#ctx2048", "gguf:m#plain#ctx4096")
    request = Request(prompt="p")
    assert request.sample_key(short.name, short.model, 0) != request.sample_key(
        long.name, long.model, 0
    )


def test_vllm_names_weights_and_context(tmp_path: Path) -> None:
    assert cache_name("Qwen/Qwen2.5-0.5B") == "Qwen/Qwen2.5-0.5B"  # a hub id as is
    assert cache_name("Qwen/Qwen2.5-0.5B", 4096) == "Qwen/Qwen2.5-0.5B#ctx4096"
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"v1")
    before = cache_name(str(folder), 2048)
    assert before.startswith(f"{folder}@") and before.endswith("#ctx2048")
    (folder / "model.safetensors").write_bytes(b"v2 retrained")
    assert cache_name(str(folder), 2048) != before
