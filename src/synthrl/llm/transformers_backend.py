"""In-process Hugging Face `transformers` inference: the same model class training uses."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthrl.errors import SynthRLError
from synthrl.llm.base import Backend, OnResult, Request, Result, Sample


class TransformersBackend(Backend):
    name = "transformers"

    def __init__(self, path: str | Path, model: str, threads: int | None = None) -> None:
        super().__init__(model)
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
        return "\n\n".join(content for _, content in request.messages) + "\n\n"

    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        for i, request in enumerate(requests):
            on_result(i, self._one(request))

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
        ids = [t for t in tokens.tolist() if t != self.tokenizer.pad_token_id]
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        finish = "length" if len(ids) >= request.max_tokens else "stop"
        for stop in request.stop:  # OpenAI semantics: the stop string is not part of the text
            cut = text.find(stop)
            if cut >= 0:
                text, finish = text[:cut], "stop"
        return Sample(text, finish, len(ids))
