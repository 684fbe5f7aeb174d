"""Structured replies against the real embedded instructor (issue 17): the generate stage's
Figure 6 prompt (unchanged) for four passages, sampled as the stage samples (temperature 0.7,
one sample per request, batched through `BatchedSampler` with the grammar sampler in each
chain), and one greedy keywords request (llama-cpp-python's own loop, `create_completion(
grammar=...)`). Every reply must be strict JSON (`json.loads`, no tolerant parser) of its schema,
ended by the model rather than cut at `max_tokens`, on the first try.

    .venv/bin/pytest -q -s tests/e2e/test_structured.py   (about a minute on 2 cores)
"""

from __future__ import annotations

import json
import time

import pytest

from synthrl.config import LLMConfig
from synthrl.llm import LLM, Ledger, Request, open_backend
from synthrl.prompts import generate_messages, keywords_messages
from synthrl.synthesis.reply_schemas import SAMPLE, keywords_schema
from synthrl.task import load_task
from tests.conftest import EXAMPLES
from tests.fakes import PASSAGES

pytestmark = pytest.mark.slow


def test_embedded_instructor_replies_match_the_schemas_on_the_first_try() -> None:
    from synthrl.models import prepare_gguf

    prepare_gguf("instructor")
    task = load_task(EXAMPLES / "gsm8k-demos.yaml")
    samples = [
        Request.chat(
            generate_messages(task, f"{p['title']}: {p['text']}", None),
            temperature=0.7,
            max_tokens=256,
            seed=i,
            schema=SAMPLE,
        )
        for i, p in enumerate(PASSAGES)
    ]
    keywords = Request.chat(
        keywords_messages(task, 4), max_tokens=96, schema=keywords_schema(4)
    )  # greedy: decoded one at a time
    backend = open_backend("embedded:instructor", LLMConfig(context=2048, threads=2))
    started = time.perf_counter()
    try:
        llm = LLM(backend, None, Ledger(), "embedded:instructor", show_progress=False)
        results = llm.generate([*samples, keywords], stage="t")
    finally:
        backend.close()
    print(f"\n{len(results)} structured replies in {time.perf_counter() - started:.0f} s")

    for result in results[:-1]:
        sample = result.samples[0]
        assert sample.finish_reason == "stop", sample.text  # ended by the grammar, not cut
        value = json.loads(sample.text)  # strict JSON: no raw control characters in strings
        assert isinstance(value, dict) and list(value) == ["input", "output"], sample.text
        assert all(isinstance(v, str) for v in value.values()) and value["input"].strip()
    words = json.loads(results[-1].texts[0])
    assert isinstance(words, list) and 1 <= len(words) <= 4 + 20
    assert all(isinstance(w, str) and len(w) <= 60 for w in words)
