"""`llamacpp` generation with the real embedded models."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthrl.config import LLMConfig
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
