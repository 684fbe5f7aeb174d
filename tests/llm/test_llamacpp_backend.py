"""`llamacpp` generation with the real embedded models."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthrl.config import LLMConfig
from synthrl.errors import SynthRLError
from synthrl.llm import LLM, CallCache, Ledger, Request, open_backend

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_llm(base_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> LLM:
    backend = open_backend("embedded:base", LLMConfig(context=2048, threads=2))
    cache = CallCache(tmp_path_factory.mktemp("cache") / "c.sqlite")
    return LLM(backend, cache, Ledger(), "embedded:base", show_progress=False)


def test_greedy_chat_answers_and_is_deterministic(base_llm: LLM) -> None:
    request = Request.chat(
        [{"role": "user", "content": "What is 2 + 3? Reply with the number only."}], max_tokens=8
    )
    result = base_llm.generate([request], stage="t")[0]
    assert "5" in result.texts[0]
    assert result.prompt_tokens > 10 and result.completion_tokens > 0
    fresh = LLM(base_llm.backend, None, Ledger(), "embedded:base", show_progress=False)
    assert fresh.generate([request], stage="t")[0].texts == result.texts


def test_n_samples_and_stop_strings(base_llm: LLM) -> None:
    request = Request.chat(
        [{"role": "user", "content": "List three fruits, one per line."}],
        n=3,
        temperature=1.0,
        max_tokens=24,
        stop=("\n",),
    )
    result = base_llm.generate([request], stage="t")[0]
    assert len(result.samples) == 3
    assert all("\n" not in text for text in result.texts)
    assert all(s.completion_tokens > 0 for s in result.samples)


def test_raw_prompt_completion(base_llm: LLM) -> None:
    result = base_llm.generate([Request(prompt="1, 2, 3, 4,", max_tokens=6)], stage="t")[0]
    assert "5" in result.texts[0]


def test_embedded_instructor_loads_and_answers(tmp_path: Path) -> None:
    from synthrl.models import prepare_gguf

    prepare_gguf("instructor")
    backend = open_backend("embedded:instructor", LLMConfig(context=1024, threads=2))
    try:
        llm = LLM(backend, None, Ledger(), "embedded:instructor", show_progress=False)
        text = llm.generate(
            [
                Request.chat(
                    [{"role": "user", "content": "What is 7 times 6? Number only."}], max_tokens=6
                )
            ],
            stage="t",
        )[0].texts[0]
    finally:
        backend.close()
    assert "42" in text


def _batched(base_gguf: Path, parallel: int, context: int) -> LLM:
    backend = open_backend("embedded:base", LLMConfig(context=context, parallel=parallel))
    return LLM(backend, None, Ledger(), "embedded:base", show_progress=False)


def test_batched_sampling_over_more_samples_than_slots(base_gguf: Path) -> None:
    """3 requests x 4 samples through 3 slots: samples start in waves, copying a live sibling's
    prompt or re-evaluating it; every request gets all its samples, each ending as asked."""
    from synthrl.llm.llamacpp_backend import LlamaCppBackend

    llm = _batched(base_gguf, parallel=3, context=512)
    assert isinstance(llm.backend, LlamaCppBackend)
    questions = ["Count from 1 to 30.", "Name ten colours.", "Write a long poem about rain."]
    requests = [
        Request.chat([{"role": "user", "content": q}], n=4, temperature=0.9, max_tokens=12, seed=1)
        for q in questions
    ]
    try:
        parts: dict[int, list[int]] = {0: [], 1: [], 2: []}
        llm.backend.generate(requests, lambda i, r: parts[i].append(len(r.samples)))
        # a request's samples are reported in parts as they end, all of them exactly once
        assert {i: sum(sizes) for i, sizes in parts.items()} == {0: 4, 1: 4, 2: 4}
        assert all(size > 0 for sizes in parts.values() for size in sizes)
        results = llm.generate(requests, stage="t")
    finally:
        llm.close()
    for result in results:
        assert len(result.samples) == 4 and result.prompt_tokens > 10
        for sample in result.samples:
            assert sample.finish_reason in ("stop", "length") and sample.text
            assert 0 < sample.completion_tokens <= 12
            if sample.finish_reason == "length":
                assert sample.completion_tokens == 12
    assert len({t for r in results for t in r.texts}) > 3  # the samples are not all one text


def test_batched_sampling_stops_and_matches_greedy_when_nearly_greedy(base_gguf: Path) -> None:
    llm = _batched(base_gguf, parallel=8, context=1024)
    ask = [{"role": "user", "content": "What is 2 + 3? Reply with the number only."}]
    try:
        greedy = llm.generate([Request.chat(ask, max_tokens=8)], stage="t")[0].texts[0]
        cold = llm.generate([Request.chat(ask, n=4, temperature=0.01, max_tokens=8)], stage="t")[0]
        lines = llm.generate(
            [
                Request.chat(
                    [{"role": "user", "content": "List five fruits, one per line."}],
                    n=5,
                    temperature=1.0,
                    max_tokens=40,
                    stop=("\n",),
                )
            ],
            stage="t",
        )[0]
    finally:
        llm.close()
    assert "5" in greedy and all(t.strip() == greedy.strip() for t in cold.texts)
    assert all("\n" not in t for t in lines.texts)
    assert all(s.finish_reason == "stop" for s in lines.samples)


def test_prompt_longer_than_the_context_is_a_clear_error(base_gguf: Path) -> None:
    llm = _batched(base_gguf, parallel=4, context=512)
    long = [{"role": "user", "content": "word " * 600}]
    try:
        for temperature in (0.0, 0.7):
            with pytest.raises(SynthRLError, match=r"raise llm\.context"):
                llm.generate([Request.chat(long, temperature=temperature)], stage="t")
    finally:
        llm.close()


def test_context_length_names_the_model_in_cache_keys(base_gguf: Path) -> None:
    """llama.cpp cuts a completion where the context ends: two contexts, two cache names."""
    short = open_backend("embedded:base", LLMConfig(context=1024, threads=2))
    long = open_backend("embedded:base", LLMConfig(context=2048, threads=2))
    try:
        assert short.model.endswith("#ctx1024") and long.model.endswith("#ctx2048")
        assert short.model.removesuffix("#ctx1024") == long.model.removesuffix("#ctx2048")
    finally:
        short.close()
        long.close()
