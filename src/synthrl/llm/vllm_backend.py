"""In-process vLLM on a GPU (optional extra `gpu`). Import-guarded: importing this module never
imports vllm; constructing the backend does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from synthrl.errors import SynthRLError
from synthrl.llm.base import Backend, OnResult, Request, Result, Sample


def sampling_kwargs(request: Request) -> dict[str, Any]:
    """vllm.SamplingParams arguments for a request."""
    kwargs: dict[str, Any] = {
        "n": request.n,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        "seed": request.sample_seed(request.first_sample),
    }
    if request.stop:
        kwargs["stop"] = list(request.stop)
    return kwargs


def to_result(output: Any) -> Result:
    """A vllm RequestOutput as a Result."""
    samples = [Sample(o.text, o.finish_reason or "stop", len(o.token_ids)) for o in output.outputs]
    return Result(samples=samples, prompt_tokens=len(output.prompt_token_ids or ()))


class VLLMBackend(Backend):
    name = "vllm"

    def __init__(
        self, model: str, seed: int = 0, label: str | None = None, **engine_args: Any
    ) -> None:
        """`label` names the model in cache keys (default: `model`)."""
        super().__init__(label or model)
        try:
            import vllm
        except ImportError:
            raise SynthRLError(
                "the vllm backend needs vLLM and a CUDA GPU: pip install 'synthrl[gpu]'"
            ) from None
        self._vllm = vllm
        self.engine = vllm.LLM(model=model, seed=seed, **engine_args)

    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        chats = [i for i, r in enumerate(requests) if r.messages is not None]
        prompts = [i for i, r in enumerate(requests) if r.messages is None]
        params = [self._vllm.SamplingParams(**sampling_kwargs(r)) for r in requests]
        if chats:
            outs = self.engine.chat(
                [requests[i].message_dicts() for i in chats],
                [params[i] for i in chats],
                use_tqdm=False,
            )
            for i, out in zip(chats, outs, strict=True):
                on_result(i, to_result(out))
        if prompts:
            outs = self.engine.generate(
                [requests[i].prompt for i in prompts], [params[i] for i in prompts], use_tqdm=False
            )
            for i, out in zip(prompts, outs, strict=True):
                on_result(i, to_result(out))
