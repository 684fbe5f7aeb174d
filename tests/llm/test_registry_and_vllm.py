"""Model specs, and the vLLM backend's request translation (vLLM itself needs a GPU)."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import Request, open_backend, parse_spec
from synthrl.llm.openai_backend import OpenAIBackend
from synthrl.llm.vllm_backend import VLLMBackend, sampling_kwargs, to_result


def test_parse_spec() -> None:
    assert parse_spec("openai:gpt-4o") == ("openai", "gpt-4o")
    assert parse_spec("openai:http://localhost:8000/v1#qwen") == (
        "openai",
        "http://localhost:8000/v1#qwen",
    )
    assert parse_spec("hf:Qwen/Qwen2.5-0.5B") == ("hf", "Qwen/Qwen2.5-0.5B")
    for bad in ("gpt-4o", "foo:bar", "openai:"):
        with pytest.raises(SynthRLError, match="model spec"):
            parse_spec(bad)


def test_openai_spec_with_url_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    backend = open_backend("openai:http://127.0.0.1:9/v1#qwen")
    assert isinstance(backend, OpenAIBackend)
    assert (backend.base_url, backend.served) == ("http://127.0.0.1:9/v1", "qwen")
    assert backend.model == "http://127.0.0.1:9/v1#qwen"  # the endpoint names cache entries


def test_openai_hosted_model_needs_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("SYNTHRL_API_KEY", raising=False)
    with pytest.raises(SynthRLError, match="OPENAI_API_KEY"):
        open_backend("openai:gpt-4o")


def test_vllm_sampling_translation() -> None:
    request = Request.chat(
        [{"role": "user", "content": "x"}],
        n=4,
        temperature=0.7,
        top_p=0.9,
        max_tokens=64,
        stop=("</answer>",),
        seed=3,
        first_sample=8,
    )
    assert sampling_kwargs(request) == {
        "n": 4,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": -1,
        "min_p": 0.0,
        "repetition_penalty": 1.0,
        "max_tokens": 64,
        "stop": ["</answer>"],
        "seed": request.sample_seed(8),
    }
    assert "stop" not in sampling_kwargs(Request(prompt="p"))


def test_vllm_output_translation() -> None:
    output = SimpleNamespace(
        prompt_token_ids=[1, 2, 3],
        outputs=[
            SimpleNamespace(text="a", finish_reason="stop", token_ids=[5, 6]),
            SimpleNamespace(text="b", finish_reason="length", token_ids=[7]),
        ],
    )
    result = to_result(output)
    assert (
        result.texts == ["a", "b"] and result.prompt_tokens == 3 and result.completion_tokens == 3
    )
    assert [s.finish_reason for s in result.samples] == ["stop", "length"]


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_vllm_missing_is_a_clear_error() -> None:
    with pytest.raises(SynthRLError, match=r"synthrl\[gpu\]"):
        VLLMBackend("Qwen/Qwen2.5-0.5B")


def test_sample_seeds_differ_per_index() -> None:
    request = Request(prompt="p", seed=5)
    assert len({request.sample_seed(i) for i in range(100)}) == 100
    assert request.sample_key("b", "m", 0) != request.sample_key("b", "m", 1)
    assert request.sample_key("b", "m", 0) == request.with_samples(0, 9).sample_key("b", "m", 0)
