"""In-process GGUF inference on CPU with llama-cpp-python: the embedded default.

Greedy requests (temperature 0) are decoded one at a time by llama-cpp-python's own completion
loop, once per request (the text is repeated for n > 1), so their answers equal a plain
llama-cpp-python loop's; with `llm.batch_greedy` they are decoded together by the batched
sampler instead (several times faster on a CPU; answers may differ from the loop's where
batched arithmetic rounds a near-tie the other way, so they get their own cache keys, `#bg`).
Sampled requests go to `BatchedSampler`: up to `llm.parallel`
sequences decode together, and each request's prompt is evaluated once for its n samples.
Chat messages are rendered with the GGUF's chat template (as `create_chat_completion` does), or
as one plain prompt when the model has none.

Both paths sample with the request's own top-k / top-p / min-p (0 = off) and no repetition
penalty, not llama-cpp-python's defaults (top-k 40, min-p 0.05). A request with a reply schema is
decoded under its JSON grammar on both paths (`synthrl.llm.grammar`; llama-cpp-python 0.3.x:
`create_completion(grammar=LlamaGrammar)` one at a time, a `llama_sampler_init_grammar` sampler
first in each batched chain). The context length is part of
the model's name in cache keys (`#ctx2048`): a completion is cut where the context ends.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from synthrl.errors import SynthRLError
from synthrl.llm.base import REPETITION_PENALTY, Backend, OnResult, Request, Result, Sample
from synthrl.llm.grammar import json_grammar
from synthrl.llm.llamacpp_batch import BatchedSampler, Job
from synthrl.prompts import plain_prompt

BATCH_CONTEXTS = 4  # the batched context holds this many full-length sequences' worth of KV


def chat_formatter(engine: Any) -> Any:
    """The formatter `engine.create_chat_completion` would use: llama-cpp-python's hand-written
    one when it recognised the GGUF's template, else the template itself; None without one."""
    from llama_cpp import llama_chat_format as formats

    builtin = {
        "chatml": formats.format_chatml,
        "mistral-instruct": formats.format_mistral_instruct,
        "llama-3": formats.format_llama3,
    }
    template = engine.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    if engine.chat_format in builtin:
        return builtin[engine.chat_format]
    eos, bos = engine.token_eos(), engine.token_bos()
    return formats.Jinja2ChatFormatter(
        template=template,
        eos_token=engine._model.token_get_text(eos) if eos != -1 else "",
        bos_token=engine._model.token_get_text(bos) if bos != -1 else "",
    )


def _fill(request: Request, result: Result) -> Result:
    """A greedy result decoded once, repeated for the request's n (the copies cost nothing)."""
    if request.temperature != 0:
        return result
    first = result.samples[0]
    while len(result.samples) < request.n:
        result.samples.append(Sample(first.text, first.finish_reason, 0))
    return result


def reply_grammar(request: Request) -> Any:
    """The `llama_cpp.LlamaGrammar` of the request's reply schema (None without one): a fresh
    object per completion, as llama-cpp-python builds its grammar sampler per call."""
    if request.schema is None:
        return None
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string(json_grammar(request.schema), verbose=False)


class LlamaCppBackend(Backend):
    name = "llamacpp"
    structured = True  # a request's schema becomes a grammar (`synthrl.llm.grammar`)

    def __init__(
        self,
        path: str | Path,
        model: str,
        n_ctx: int = 4096,
        threads: int | None = None,
        parallel: int = 16,
        batch_greedy: bool = False,
    ):
        super().__init__(model)
        path = Path(path)
        if not path.is_file():
            raise SynthRLError(f"GGUF file not found: {path}")
        try:
            from llama_cpp import Llama
        except ImportError as err:  # the `embedded` extra
            raise SynthRLError(
                f"llama-cpp-python is not importable ({err}); it runs GGUF models (embedded:, "
                "gguf:) and comes with the embedded extra: pip install 'synthrl[embedded]' (on a "
                "CPU with AMX, build it portable: README, Install)."
            ) from None
        self.threads = threads or os.cpu_count() or 1
        self.n_ctx = n_ctx
        self.parallel = parallel
        self.engine: Any = Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=self.threads,
            n_batch=512,
            seed=0,
            verbose=False,
        )
        self.formatter = chat_formatter(self.engine)
        if self.formatter is None:  # rendered as a plain prompt (llama-cpp-python: llama-2 format)
            model = f"{model}#plain"
        # Batched greedy decoding rounds differently from one sequence at a time, so its
        # answers get their own cache keys.
        self.batch_greedy = batch_greedy and parallel > 1
        self.model = f"{model}#ctx{n_ctx}" + ("#bg" if self.batch_greedy else "")
        self._sampler: BatchedSampler | None = None

    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        if self.engine is None:
            raise SynthRLError("this llama.cpp model was closed; open the model again")
        jobs = []
        for i, request in enumerate(requests):
            tokens, stops = self.render(request)
            max_tokens = self._max_tokens(request, tokens)
            greedy = request.temperature == 0
            if self.parallel == 1 or (greedy and not self.batch_greedy):
                on_result(i, self._one(request, tokens, stops, max_tokens))
            else:  # a greedy request is decoded once, whatever its n
                job_request = replace(request, n=1) if greedy else request
                jobs.append(Job(i, job_request, tokens, stops, max_tokens))
        if jobs:
            self.sampler().run(jobs, lambda i, result: on_result(i, _fill(requests[i], result)))

    def render(self, request: Request) -> tuple[list[int], list[str]]:
        """Prompt tokens and stop strings, as llama-cpp-python's chat completion builds them."""
        stops = list(request.stop)
        if request.messages is None or self.formatter is None:
            text = request.prompt if request.messages is None else None
            text = text if text is not None else plain_prompt(request.message_dicts())
            return self.engine.tokenize(text.encode("utf-8"), add_bos=True, special=True), stops
        response = self.formatter(messages=request.message_dicts())
        tokens = self.engine.tokenize(
            response.prompt.encode("utf-8"), add_bos=not response.added_special, special=True
        )
        extra = response.stop if isinstance(response.stop, list) else [response.stop]
        return tokens, stops + [s for s in extra if s]

    def sampler(self) -> BatchedSampler:
        if self._sampler is None:
            self._sampler = BatchedSampler(
                self.engine, self.n_ctx * BATCH_CONTEXTS, self.parallel, self.threads
            )
        return self._sampler

    def _max_tokens(self, request: Request, tokens: list[int]) -> int:
        if not tokens:
            raise SynthRLError("llama.cpp could not answer: the prompt is empty")
        room = self.n_ctx - len(tokens)
        if room <= 0:
            raise SynthRLError(
                f"llama.cpp could not answer: the prompt has {len(tokens)} tokens, the context "
                f"{self.n_ctx} (raise llm.context?)"
            )
        return min(request.max_tokens, room)

    def _one(
        self, request: Request, tokens: list[int], stops: list[str], max_tokens: int
    ) -> Result:
        """Sample one at a time with llama-cpp-python's completion loop (greedy: decode once)."""
        result = Result(prompt_tokens=len(tokens))
        draws = 1 if request.temperature == 0 else request.n
        for j in range(draws):
            out: dict[str, Any] = self.engine.create_completion(  # type: ignore[assignment]
                prompt=tokens,
                temperature=request.temperature,
                top_p=request.top_p,
                top_k=request.top_k,
                min_p=request.min_p,
                repeat_penalty=REPETITION_PENALTY,
                max_tokens=max_tokens,
                stop=stops or None,
                seed=request.sample_seed(request.first_sample + j),
                grammar=reply_grammar(request),
            )
            choice = out["choices"][0]
            sample = Sample(
                choice["text"] or "",
                choice.get("finish_reason") or "stop",
                out["usage"]["completion_tokens"],
            )
            result.samples.append(sample)
        while len(result.samples) < request.n:  # greedy: the same text, generated once
            first = result.samples[0]
            result.samples.append(Sample(first.text, first.finish_reason, 0))
        return result

    def close(self) -> None:
        """Free the batched context and the model. Safe to call more than once."""
        if self._sampler is not None:
            self._sampler.close()
            self._sampler = None
        engine, self.engine = getattr(self, "engine", None), None
        if engine is not None:
            engine.close()
