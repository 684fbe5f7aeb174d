"""Any OpenAI-compatible endpoint (OpenAI, Azure, vLLM / SGLang / llama.cpp servers).

Async with a concurrency limit; bounded retries with exponential backoff and jitter on 429, 5xx,
timeouts and dropped connections; `n` samples in one request, topped up with further requests
when a server returns fewer choices than asked.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

import openai

from synthrl.errors import SynthRLError
from synthrl.llm.base import Backend, OnResult, Request, Result, Sample

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str | None,
        api_key: str,
        concurrency: int = 16,
        max_retries: int = 5,
        timeout_s: float = 600.0,
        backoff_s: float = 1.0,
    ) -> None:
        super().__init__(model)
        self.base_url = base_url
        self._api_key = api_key
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIBackend(model={self.model!r}, base_url={self.base_url!r})"

    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        asyncio.run(self._generate(requests, on_result))

    async def _generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=self._api_key, max_retries=0, timeout=self.timeout_s
        )
        gate = asyncio.Semaphore(self.concurrency)

        async def one(i: int) -> tuple[int, Result]:
            return i, await self._complete(client, gate, requests[i])

        errors: list[BaseException] = []
        try:
            for future in asyncio.as_completed([one(i) for i in range(len(requests))]):
                try:
                    i, result = await future
                except SynthRLError as err:  # keep answering the others; report after
                    errors.append(err)
                    continue
                on_result(i, result)
        finally:
            await client.close()
        if errors:
            raise SynthRLError(
                f"{len(errors)} of {len(requests)} requests failed; first: {errors[0]}"
            )

    async def _complete(self, client: Any, gate: asyncio.Semaphore, request: Request) -> Result:
        """All n samples of one request, in as few calls as the server allows."""
        result = Result()
        while len(result.samples) < request.n:
            done = len(result.samples)
            part = await self._call(
                client, gate, request, request.first_sample + done, request.n - done
            )
            result.prompt_tokens = part.prompt_tokens
            result.samples.extend(part.samples[: request.n - done])
        return result

    async def _call(
        self, client: Any, gate: asyncio.Semaphore, request: Request, first: int, n: int
    ) -> Result:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "max_tokens": request.max_tokens,
            "seed": request.sample_seed(first),
        }
        if n > 1:
            kwargs["n"] = n
        if request.stop:
            kwargs["stop"] = list(request.stop)
        for attempt in range(self.max_retries + 1):
            try:
                async with gate:
                    if request.messages is not None:
                        response = await client.chat.completions.create(
                            messages=request.message_dicts(), **kwargs
                        )
                    else:
                        response = await client.completions.create(prompt=request.prompt, **kwargs)
                return _to_result(response, chat=request.messages is not None)
            except (openai.APIConnectionError, openai.APIStatusError) as err:
                status = getattr(err, "status_code", None)
                retryable = status is None or status in _RETRY_STATUS
                if not retryable or attempt == self.max_retries:
                    raise SynthRLError(self._explain(err, attempt)) from None
                delay = min(30.0, self.backoff_s * 2**attempt) * random.uniform(0.5, 1.5)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _explain(self, err: Exception, attempt: int) -> str:
        where = self.base_url or "the OpenAI API"
        status = getattr(err, "status_code", None)
        if status in (401, 403):
            return f"{where} refused the API key (HTTP {status}); set OPENAI_API_KEY."
        if status == 404:
            return f"{where} does not know model {self.model!r} (HTTP 404); check the model spec."
        if status is not None and status not in _RETRY_STATUS:
            return f"{where} rejected the request (HTTP {status}): {_short(err)}"
        tries = attempt + 1
        return f"{where} unreachable after {tries} tries ({type(err).__name__}: {_short(err)})"


def _short(err: Exception) -> str:
    text = str(err).replace("\n", " ")
    return text[:200]


def _to_result(response: Any, chat: bool) -> Result:
    choices = sorted(response.choices, key=lambda c: c.index)
    usage = response.usage
    texts = [(c.message.content or "") if chat else (c.text or "") for c in choices]
    total_completion = usage.completion_tokens if usage else 0
    per_sample = total_completion // max(1, len(choices))
    samples = [
        Sample(t, c.finish_reason or "stop", per_sample)
        for t, c in zip(texts, choices, strict=True)
    ]
    if samples:
        samples[0].completion_tokens += total_completion - per_sample * len(samples)
    return Result(samples=samples, prompt_tokens=usage.prompt_tokens if usage else 0)
