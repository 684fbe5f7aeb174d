"""`transformers` generation on the embedded base converted to a Hugging Face folder."""

from __future__ import annotations

import pytest

from synthrl.llm import LLM, Ledger, Request

pytestmark = pytest.mark.slow


def test_hf_backend_generates_from_converted_base() -> None:
    from synthrl.llm.transformers_backend import TransformersBackend
    from synthrl.models import hf_path

    path = hf_path("base")
    assert (path / "config.json").is_file()
    assert "quantization_config" not in (path / "config.json").read_text()
    backend = TransformersBackend(path, f"hf:{path}", threads=2)
    llm = LLM(backend, None, Ledger(), "hf", show_progress=False)
    request = Request.chat(
        [{"role": "user", "content": "What is 2 + 3? Reply with the number only."}], max_tokens=6
    )
    sampled = Request.chat(
        [{"role": "user", "content": "Say hi."}], n=2, temperature=1.0, max_tokens=5, stop=("!",)
    )
    greedy, many = llm.generate([request, sampled], stage="t")
    assert "5" in greedy.texts[0]
    assert len(many.samples) == 2 and all("!" not in t for t in many.texts)
    assert greedy.prompt_tokens > 5


def test_greedy_batches_match_one_by_one() -> None:
    from synthrl.llm.transformers_backend import TransformersBackend
    from synthrl.models import hf_path

    path = hf_path("base")
    questions = ["What is 2 + 3?", "Name the capital of France in one word.", "Count: 1, 2, 3,"]
    requests = [Request.chat([{"role": "user", "content": q}], max_tokens=8) for q in questions]
    batched = TransformersBackend(path, "hf", threads=2, batch_size=8)
    single = TransformersBackend(path, "hf", threads=2, batch_size=1)
    together = LLM(batched, None, Ledger(), "hf", show_progress=False).generate(requests, stage="t")
    alone = LLM(single, None, Ledger(), "hf", show_progress=False).generate(requests, stage="t")
    assert [r.texts for r in together] == [r.texts for r in alone]
    assert [r.prompt_tokens for r in together] == [r.prompt_tokens for r in alone]
