"""In-process GGUF inference on CPU with llama-cpp-python: the embedded default.

The engine keeps the last prompt's KV cache, so the n samples of one request evaluate the prompt
once. Greedy requests (temperature 0) are decoded once and the text repeated n times.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthrl.errors import SynthRLError
from synthrl.llm.base import Backend, OnResult, Request, Result, Sample


class LlamaCppBackend(Backend):
    name = "llamacpp"

    def __init__(self, path: str | Path, model: str, n_ctx: int = 4096, threads: int | None = None):
        super().__init__(model)
        path = Path(path)
        if not path.is_file():
            raise SynthRLError(f"GGUF file not found: {path}")
        try:
            from llama_cpp import Llama
        except ImportError as err:  # pragma: no cover - a core dependency
            raise SynthRLError(
                f"llama-cpp-python is not importable ({err}); pip install llama-cpp-python"
            ) from None
        self.engine = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=threads or os.cpu_count() or 1,
            n_batch=512,
            seed=0,
            verbose=False,
        )

    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        for i, request in enumerate(requests):
            on_result(i, self._one(request))

    def _one(self, request: Request) -> Result:
        result = Result()
        draws = 1 if request.temperature == 0 else request.n
        for j in range(draws):
            out = self._call(request, request.sample_seed(request.first_sample + j))
            choice = out["choices"][0]
            text = choice["message"]["content"] if request.messages is not None else choice["text"]
            usage = out["usage"]
            result.prompt_tokens = usage["prompt_tokens"]
            sample = Sample(
                text or "", choice.get("finish_reason") or "stop", usage["completion_tokens"]
            )
            result.samples.append(sample)
        while len(result.samples) < request.n:  # greedy: the same text, generated once
            first = result.samples[0]
            result.samples.append(Sample(first.text, first.finish_reason, 0))
        return result

    def _call(self, request: Request, seed: int) -> dict[str, Any]:
        sampling: dict[str, Any] = {
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "stop": list(request.stop) or None,
            "seed": seed,
        }
        try:
            if request.messages is not None:
                return self.engine.create_chat_completion(
                    messages=request.message_dicts(), **sampling
                )  # type: ignore[return-value]
            return self.engine.create_completion(prompt=request.prompt, **sampling)  # type: ignore[return-value]
        except ValueError as err:  # e.g. the prompt exceeds the context window
            raise SynthRLError(f"llama.cpp could not answer: {err} (raise llm.context?)") from None

    def close(self) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.close()
