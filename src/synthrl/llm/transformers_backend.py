"""In-process Hugging Face `transformers` inference: the same model class training uses.

Sampling is pure temperature sampling unless a request sets top-k / top-p / min-p: the model's
own `generation_config.json` defaults (Qwen2.5 ships top-k 20, top-p 0.8, a repetition penalty)
are switched off at load and every knob is passed explicitly. A tokenizer without a pad token
(Llama 3) pads batches with its end-of-sequence token; completions are cut at the first
end-of-sequence token by position, so pad ids (even 0) are never filtered out of the text.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthrl.errors import SynthRLError
from synthrl.llm.base import REPETITION_PENALTY, Backend, OnResult, Request, Result, Sample
from synthrl.prompts import plain_prompt

# generation_config fields that change which token is drawn, at the values that switch them off
NEUTRAL_SAMPLING: dict[str, Any] = {
    "do_sample": False,
    "temperature": 1.0,
    "top_k": 0,
    "top_p": 1.0,
    "min_p": None,
    "typical_p": 1.0,
    "epsilon_cutoff": 0.0,
    "eta_cutoff": 0.0,
    "repetition_penalty": REPETITION_PENALTY,
    "encoder_repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
}


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(
        self, path: str | Path, model: str, threads: int | None = None, batch_size: int = 8
    ) -> None:
        super().__init__(model)
        self.batch_size = batch_size
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        self.torch = torch
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
            net = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
        except OSError as err:
            raise SynthRLError(f"cannot load a Hugging Face model from {path}: {err}") from None
        if torch.cuda.is_available():
            net = net.to("cuda")
        self.attach(tokenizer, net.eval())

    def attach(self, tokenizer: Any, net: Any) -> None:
        """Use `tokenizer` and `net` (loaded by `__init__`, or built by a test): a pad token
        for batches, the end-of-sequence ids, and the model's sampling defaults switched off."""
        self.tokenizer = tokenizer
        self.net: Any = net
        self.eos_ids = end_ids(tokenizer, net.generation_config)
        if tokenizer.pad_token_id is None:  # for padding only: rows are cut at the first EOS
            if tokenizer.eos_token is not None:
                tokenizer.pad_token = tokenizer.eos_token
            else:
                tokenizer.pad_token = tokenizer.convert_ids_to_tokens(0)
        for name, off in NEUTRAL_SAMPLING.items():
            setattr(net.generation_config, name, off)

    def render(self, request: Request) -> str:
        """The prompt text: the chat template when the model has one, else plain concatenation."""
        if request.messages is None:
            return request.prompt or ""
        if self.tokenizer.chat_template:
            return str(
                self.tokenizer.apply_chat_template(
                    request.message_dicts(), tokenize=False, add_generation_prompt=True
                )
            )
        return plain_prompt(request.message_dicts())

    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        """Greedy single-sample requests with equal settings run in left-padded batches."""
        if self.net is None:
            raise SynthRLError("this transformers model was closed; open the model again")
        batch: list[int] = []
        for i, request in enumerate(requests):
            if (
                request.temperature == 0
                and (not batch or _same_settings(requests[batch[0]], request))
                and len(batch) < self.batch_size
            ):
                batch.append(i)
                continue
            self._flush(requests, batch, on_result)
            batch = []
            if request.temperature == 0:
                batch = [i]
            else:
                on_result(i, self._one(request))
        self._flush(requests, batch, on_result)

    def _flush(self, requests: Sequence[Request], batch: list[int], on_result: OnResult) -> None:
        if len(batch) == 1:
            on_result(batch[0], self._one(requests[batch[0]]))
        elif batch:
            for i, result in zip(
                batch, self._greedy_batch([requests[i] for i in batch]), strict=True
            ):
                on_result(i, result)

    def _greedy_batch(self, batch: list[Request]) -> list[Result]:
        self.tokenizer.padding_side = "left"
        enc = self.tokenizer([self.render(r) for r in batch], return_tensors="pt", padding=True).to(
            self.net.device
        )
        with self.torch.no_grad():
            out = self.net.generate(**enc, **self.generation_kwargs(batch[0]))
        width = enc["input_ids"].shape[1]
        prompt_tokens = enc["attention_mask"].sum(dim=1).tolist()
        results = []
        for row, request, used in zip(out, batch, prompt_tokens, strict=True):
            sample = self._decode(row[width:].tolist(), request)
            copies = [Sample(sample.text, sample.finish_reason, 0) for _ in range(request.n - 1)]
            results.append(Result(samples=[sample, *copies], prompt_tokens=int(used)))
        return results

    def _one(self, request: Request) -> Result:
        enc = self.tokenizer(self.render(request), return_tensors="pt").to(self.net.device)
        prompt_len = enc["input_ids"].shape[1]
        if request.temperature > 0:
            self.torch.manual_seed(request.sample_seed(request.first_sample))
        with self.torch.no_grad():
            out = self.net.generate(**enc, **self.generation_kwargs(request))
        samples = [self._decode(row[prompt_len:].tolist(), request) for row in out]
        while len(samples) < request.n:  # greedy: the same text, generated once
            samples.append(Sample(samples[0].text, samples[0].finish_reason, 0))
        return Result(samples=samples, prompt_tokens=prompt_len)

    def generation_kwargs(self, request: Request) -> dict[str, Any]:
        """`generate` arguments: every sampling knob explicit (greedy: none applies)."""
        greedy = request.temperature == 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": request.max_tokens,
            "do_sample": not greedy,
            "num_return_sequences": 1 if greedy else request.n,
            "pad_token_id": self.tokenizer.pad_token_id,
            "repetition_penalty": REPETITION_PENALTY,
        }
        if not greedy:
            kwargs.update(
                temperature=request.temperature,
                top_k=request.top_k,
                top_p=request.top_p,
                min_p=request.min_p or None,
            )
        if request.stop:
            kwargs.update(stop_strings=list(request.stop), tokenizer=self.tokenizer)
        return kwargs

    def _decode(self, ids: list[int], request: Request) -> Sample:
        """New tokens up to the first end-of-sequence token (what follows is padding), as text;
        stop strings cut, OpenAI-style (the stop string is not part of the text)."""
        ended = next((k for k, t in enumerate(ids) if t in self.eos_ids), None)
        if ended is not None:
            ids = ids[:ended]
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        cuts = [text.find(stop) for stop in request.stop if stop in text]
        if cuts:  # generation stopped at the stop string; anything after it is padding
            return Sample(text[: min(cuts)], "stop", self._tokens_to_stop(ids, request.stop))
        finish = "length" if ended is None and len(ids) >= request.max_tokens else "stop"
        return Sample(text, finish, len(ids))

    def _tokens_to_stop(self, ids: list[int], stops: Sequence[str]) -> int:
        """The fewest leading tokens whose text holds a stop string (binary search)."""
        low, high = 1, len(ids)
        while low < high:
            mid = (low + high) // 2
            text = self.tokenizer.decode(ids[:mid], skip_special_tokens=True)
            if any(stop in text for stop in stops):
                high = mid
            else:
                low = mid + 1
        return high

    def close(self) -> None:
        """Drop the model and give its memory back (the CUDA cache too). Safe to call twice."""
        net, self.net = getattr(self, "net", None), None
        if net is None:
            return
        del net
        gc.collect()
        if self.torch.cuda.is_available():
            self.torch.cuda.empty_cache()


def end_ids(tokenizer: Any, generation_config: Any) -> set[int]:
    """Every token id that ends a completion: the tokenizer's EOS and the model's (Llama 3
    lists several)."""
    ids = generation_config.eos_token_id
    found = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None:
        found.add(tokenizer.eos_token_id)
    return found


def _same_settings(a: Request, b: Request) -> bool:
    return (a.max_tokens, a.stop, a.n) == (b.max_tokens, b.stop, b.n)
