"""In-process Hugging Face `transformers` inference: the same model class training uses."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthrl.errors import SynthRLError
from synthrl.llm.base import Backend, OnResult, Request, Result, Sample
from synthrl.prompts import plain_prompt


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
            self.tokenizer = AutoTokenizer.from_pretrained(str(path))
            dtype = torch.bfloat16 if torch.cuda.is_available() else torch.float32
            self.net = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
        except OSError as err:
            raise SynthRLError(f"cannot load a Hugging Face model from {path}: {err}") from None
        if torch.cuda.is_available():
            self.net = self.net.to("cuda")
        self.net.eval()

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
        torch = self.torch
        self.tokenizer.padding_side = "left"
        enc = self.tokenizer([self.render(r) for r in batch], return_tensors="pt", padding=True).to(
            self.net.device
        )
        kwargs: dict[str, Any] = {
            "max_new_tokens": batch[0].max_tokens,
            "do_sample": False,
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
        }
        if batch[0].stop:
            kwargs.update(stop_strings=list(batch[0].stop), tokenizer=self.tokenizer)
        with torch.no_grad():
            out = self.net.generate(**enc, **kwargs)
        width = enc["input_ids"].shape[1]
        prompt_tokens = enc["attention_mask"].sum(dim=1).tolist()
        results = []
        for row, request, used in zip(out, batch, prompt_tokens, strict=True):
            sample = self._decode(row[width:], request)
            copies = [Sample(sample.text, sample.finish_reason, 0) for _ in range(request.n - 1)]
            results.append(Result(samples=[sample, *copies], prompt_tokens=int(used)))
        return results

    def _one(self, request: Request) -> Result:
        torch = self.torch
        enc = self.tokenizer(self.render(request), return_tensors="pt").to(self.net.device)
        prompt_len = enc["input_ids"].shape[1]
        greedy = request.temperature == 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": request.max_tokens,
            "do_sample": not greedy,
            "num_return_sequences": 1 if greedy else request.n,
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
        }
        if not greedy:
            kwargs.update(temperature=request.temperature, top_p=request.top_p)
            torch.manual_seed(request.sample_seed(request.first_sample))
        if request.stop:
            kwargs.update(stop_strings=list(request.stop), tokenizer=self.tokenizer)
        with torch.no_grad():
            out = self.net.generate(**enc, **kwargs)
        samples = [self._decode(row[prompt_len:], request) for row in out]
        while len(samples) < request.n:
            samples.append(Sample(samples[0].text, samples[0].finish_reason, 0))
        return Result(samples=samples, prompt_tokens=prompt_len)

    def _decode(self, tokens: Any, request: Request) -> Sample:
        """New tokens up to the end of sequence, as text (stop strings cut, OpenAI-style)."""
        ids = [t for t in tokens.tolist() if t != self.tokenizer.pad_token_id]
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        finish = "length" if len(ids) >= request.max_tokens else "stop"
        for stop in request.stop:  # OpenAI semantics: the stop string is not part of the text
            cut = text.find(stop)
            if cut >= 0:
                text, finish = text[:cut], "stop"
        return Sample(text, finish, len(ids))


def _same_settings(a: Request, b: Request) -> bool:
    return (a.max_tokens, a.stop, a.n) == (b.max_tokens, b.stop, b.n)
