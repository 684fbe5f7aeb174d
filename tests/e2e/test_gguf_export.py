"""A Hugging Face model written as GGUF loads in llama-cpp-python and answers as the Hugging Face
model does: greedy tokens identical in f32, and close in q8_0 (the precision the evaluate stage
uses for both base and trained model)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROMPTS = [
    "Natalia sold 48 clips in April and half as many in May. How many clips did she sell?",
    "What is the capital of France? Answer in one word.",
    "Write a Python function that returns the square of a number.",
]
TOKENS = 16


def hf_greedy(path: Path) -> list[list[int]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path))
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    out = []
    for prompt in PROMPTS:
        ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            gen = model.generate(ids, max_new_tokens=TOKENS, do_sample=False)
        out.append(gen[0, ids.shape[1] :].tolist())
    return out


def gguf_greedy(path: Path, hf_path: Path) -> list[list[int]]:
    from llama_cpp import Llama
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(hf_path))
    llm = Llama(model_path=str(path), n_ctx=512, n_threads=2, verbose=False)
    out = []
    for prompt in PROMPTS:
        ids = tokenizer(prompt)["input_ids"]  # the same prompt tokens on both sides
        tokens = []
        for token in llm.generate(ids, temp=0.0, top_k=1, reset=True):
            tokens.append(token)
            if len(tokens) == TOKENS:
                break
        out.append(tokens)
    llm.close()
    return out


def agreement(got: list[list[int]], expected: list[list[int]]) -> float:
    """The share of expected tokens that `got` reproduces at the same position."""
    pairs = zip(got, expected, strict=True)
    same = sum(a == b for row, want in pairs for a, b in zip(row, want, strict=False))
    return same / sum(len(want) for want in expected)


def test_written_gguf_answers_as_the_hf_model(tmp_path: Path) -> None:
    from synthrl.export.gguf import write_gguf
    from synthrl.models import hf_path, prepare_gguf

    base_hf, template = hf_path("base"), prepare_gguf("base")
    expected = hf_greedy(base_hf)
    exact = write_gguf(base_hf, template, tmp_path / "f32.gguf", "f32")
    # transformers stops at the end-of-turn token; llama.cpp's raw generate runs on past it
    assert [
        row[: len(want)] for row, want in zip(gguf_greedy(exact, base_hf), expected, strict=True)
    ] == expected
    exact_size = exact.stat().st_size
    exact.unlink()  # 1.4 GB: CI's disk is small
    q8 = write_gguf(base_hf, template, tmp_path / "q8.gguf", "q8_0")
    assert q8.stat().st_size < exact_size / 3
    close = gguf_greedy(q8, base_hf)
    assert agreement(close, expected) >= 0.8, (close, expected)
