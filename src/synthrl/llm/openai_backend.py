"""Any OpenAI-compatible endpoint (OpenAI, Azure, vLLM / SGLang / llama.cpp servers).

Async with a concurrency limit; retries are the `openai` client's own (429, 408, 409, 5xx,
timeouts and dropped connections, with backoff that honours `Retry-After`), `llm.max_retries`
of them, and synthrl turns what is left into one clear error. `n` samples go in one request,
topped up with further requests when a server returns fewer choices than asked (each part
reported, so cached, as it arrives; `max_retries` answers with no choice at all end in an error
naming the endpoint).

Reasoning models (OpenAI's o-series, gpt-5 and similar: `is_reasoning_model`) reject
`max_tokens`, a non-default temperature or top_p, and stop strings: they are sent
`max_completion_tokens` and none of the others.

The cache names the model by endpoint and model (`http://host/v1#model`), so two servers never
answer from each other's cache; the official API (no base URL) keeps the bare model name.
`top_k` / `min_p` are not OpenAI parameters: when a request sets them they go to a
self-hosted server (vLLM, SGLang, llama.cpp) in the body, and the official API refuses them.

A request with a reply schema is sent `response_format={"type": "json_schema", "json_schema":
{"name", "schema", "strict": false}}` (OpenAI's structured outputs; vLLM, SGLang and llama.cpp's
server constrain decoding to it). A server that refuses it (HTTP 400/422 naming the response
format or the schema) is asked again without it, and this backend never sends it that schema
again: the reply is then parsed as text, as without a schema (`sampler_settings` says so).
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable, Sequence
from typing import Any

import openai

from synthrl.errors import SynthRLError
from synthrl.llm.base import Backend, OnResult, Request, Result, Sample

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
# Model families that take `max_completion_tokens` and no sampling settings (OpenAI's
# reasoning models; the name's last path part, so `openai/o3-mini` and `o3-mini` both match).
_REASONING = re.compile(r"^(o\d+(-.*)?|gpt-5.*|codex-.*)$", re.IGNORECASE)


def is_reasoning_model(name: str) -> bool:
    """Whether `name` is a reasoning model (o1, o3-mini, o4-mini, gpt-5, ...)."""
    return bool(_REASONING.match(name.rsplit("/", 1)[-1]))


class OpenAIBackend(Backend):
    name = "openai"
    free = False  # priced from the user's price file or the maintained table, else unknown
    structured = True  # sends `response_format` with the schema, unless the server refused it

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
        super().__init__(endpoint_name(base_url, model))
        self.served = model  # the model name the server is asked for
        self.base_url = base_url
        self._api_key = api_key
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.refused: dict[str, str] = {}  # schema -> why the server refused it as response_format

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIBackend(model={self.served!r}, base_url={self.base_url!r})"

    @property
    def priced_as(self) -> str:
        return self.served

    @property
    def price_provider(self) -> dict[str, str] | None:
        if self.base_url is None:
            return {"provider_id": "openai"}
        return {"provider_api_url": self.base_url}

    @property
    def reasoning(self) -> bool:
        return is_reasoning_model(self.served)

    @property
    def where(self) -> str:
        """The endpoint, as error messages name it."""
        return self.base_url or "the OpenAI API"

    def sampler_settings(self, request: Request | None = None) -> dict[str, object]:
        """What the server is sent; what it is not sent is up to the server's own defaults."""
        settings = super().sampler_settings(request)
        request = request or Request(prompt="", temperature=1.0)
        sent = _extra_body(request) or {}
        for name in ("top_k", "min_p", "repetition_penalty"):
            if name not in sent:
                settings[name] = "server default"
        if self.reasoning:  # sent no sampling settings at all
            settings.update(temperature="model default", top_p="model default")
        if self.refused:  # said once, in the manifest of the stage that met it
            why = next(iter(self.refused.values()))
            settings["response_format"] = f"refused, replies parsed as text ({why})"
        return settings

    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        if self.base_url is None and any(_extra_body(r) for r in requests):
            raise SynthRLError(
                "the OpenAI API has no top_k / min_p; leave them at 0 for openai:MODEL, or use a "
                "self-hosted server (openai:http://HOST/v1#MODEL)."
            )
        asyncio.run(self._generate(requests, on_result))

    async def _generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        client = openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=self._api_key,
            max_retries=self.max_retries,  # the client's backoff, which honours Retry-After
            timeout=self.timeout_s,
        )
        gate = asyncio.Semaphore(self.concurrency)

        async def one(i: int) -> None:
            await self._complete(client, gate, requests[i], lambda part: on_result(i, part))

        errors: list[BaseException] = []
        try:
            for future in asyncio.as_completed([one(i) for i in range(len(requests))]):
                try:
                    await future
                except SynthRLError as err:  # keep answering the others; report after
                    errors.append(err)
        finally:
            await client.close()
        if errors:
            raise SynthRLError(
                f"{len(errors)} of {len(requests)} requests failed; first: {errors[0]}"
            )

    async def _complete(
        self,
        client: Any,
        gate: asyncio.Semaphore,
        request: Request,
        report: Callable[[Result], None],
    ) -> None:
        """All n samples of one request, in as few calls as the server allows; each call's
        samples are reported at once. At most `max_retries` calls may return no choice, and as
        many may return a body that is not a completion (not JSON, no `choices`)."""
        done, empty, malformed = 0, 0, 0
        while done < request.n:
            try:
                part = await self._call(
                    client, gate, request, request.first_sample + done, request.n - done
                )
            except _Malformed as err:
                malformed += 1
                if malformed > self.max_retries:
                    raise SynthRLError(
                        f"{self.where} sent {malformed} replies that are not completions for "
                        f"model {self.served!r} (last: {self._redact(str(err))}); check that it "
                        "is an OpenAI-compatible endpoint and that no proxy cuts its replies."
                    ) from None
                await asyncio.sleep(self.backoff_s * random.uniform(0.5, 1.5))
                continue
            part.samples = part.samples[: request.n - done]
            if not part.samples:
                empty += 1
                if empty > self.max_retries:
                    raise SynthRLError(
                        f"{self.where} answered without any choice {empty} times for model "
                        f"{self.served!r} ({done} of {request.n} samples of a request arrived); "
                        "check that the server generates (its log, the model name)."
                    )
                # the server is up and answering: a short pause, not a growing backoff
                await asyncio.sleep(self.backoff_s * random.uniform(0.5, 1.5))
                continue
            done += len(part.samples)
            report(part)

    def request_args(self, request: Request, first: int, n: int) -> dict[str, Any]:
        """The create() arguments for samples first .. first+n-1 of `request`."""
        kwargs: dict[str, Any] = {"model": self.served, "seed": request.sample_seed(first)}
        if self.reasoning:  # max_completion_tokens, and no sampling settings or stops
            kwargs["max_completion_tokens"] = request.max_tokens
        else:
            kwargs.update(
                temperature=request.temperature,
                top_p=request.top_p,
                max_tokens=request.max_tokens,
            )
            if request.stop:
                kwargs["stop"] = list(request.stop)
        if n > 1:
            kwargs["n"] = n
        extra = _extra_body(request)
        if extra:
            kwargs["extra_body"] = extra
        if request.schema is not None and request.schema not in self.refused:
            kwargs["response_format"] = response_format(request)
        return kwargs

    async def _call(
        self, client: Any, gate: asyncio.Semaphore, request: Request, first: int, n: int
    ) -> Result:
        kwargs = self.request_args(request, first, n)
        try:
            try:
                response = await self._create(client, gate, request, kwargs)
            except openai.APIStatusError as err:
                if "response_format" not in kwargs or not _refuses_format(err):
                    raise
                # The server cannot constrain to this schema: ask again without it, and never
                # send it again from this backend (the reply is parsed as text either way).
                why = self._redact(f"HTTP {err.status_code}: {_short(err)}")
                self.refused.setdefault(str(request.schema), why)
                kwargs.pop("response_format")
                response = await self._create(client, gate, request, kwargs)
        except (openai.APIConnectionError, openai.APIStatusError) as err:
            raise SynthRLError(self._redact(self._explain(err, self.max_retries))) from None
        except (ValueError, openai.APIResponseValidationError) as err:  # a body that is not JSON
            raise _Malformed(f"{type(err).__name__}: {_short(err)}") from None
        try:
            return _to_result(response, chat=request.messages is not None)
        except (TypeError, AttributeError, ValueError) as err:  # JSON, but not a completion
            raise _Malformed(f"{type(err).__name__}: {_short(err)}") from None

    async def _create(
        self, client: Any, gate: asyncio.Semaphore, request: Request, kwargs: dict[str, Any]
    ) -> Any:
        async with gate:
            if request.messages is not None:
                return await client.chat.completions.create(
                    messages=request.message_dicts(), **kwargs
                )
            return await client.completions.create(prompt=request.prompt, **kwargs)

    def _redact(self, text: str) -> str:
        """`text` without the API key or any bearer token (a server may echo request headers
        in its error bodies, and error messages quote those)."""
        if len(self._api_key) >= 4:
            text = text.replace(self._api_key, "***")
        return _BEARER.sub(r"\1***", text)

    def _explain(self, err: Exception, attempt: int) -> str:
        where = self.where
        status = getattr(err, "status_code", None)
        if status in (401, 403):
            return f"{where} refused the API key (HTTP {status}); set OPENAI_API_KEY."
        if status == 404:
            return f"{where} does not know model {self.served!r} (HTTP 404); check the model spec."
        if status is not None and status not in _RETRY_STATUS:
            return f"{where} rejected the request (HTTP {status}): {_short(err)}"
        tries = attempt + 1
        if status == 429:
            return (
                f"{where} still refused with HTTP 429 (rate limit or quota) after {tries} tries; "
                "lower llm.concurrency, raise llm.max_retries or check the account's quota."
            )
        return f"{where} unreachable after {tries} tries ({type(err).__name__}: {_short(err)})"


def endpoint_name(base_url: str | None, model: str) -> str:
    """The model as cache keys name it: the endpoint and the model it serves, so that two
    servers never share entries; the official API (no base URL) keeps the bare model name."""
    if base_url is None:
        return model
    return f"{base_url.rstrip('/')}#{model}"


def _extra_body(request: Request) -> dict[str, Any] | None:
    """The non-OpenAI sampling fields a request sets (servers such as vLLM read them)."""
    extra: dict[str, Any] = {}
    if request.top_k:
        extra["top_k"] = request.top_k
    if request.min_p:
        extra["min_p"] = request.min_p
    return extra or None


def response_format(request: Request) -> dict[str, Any]:
    """The `response_format` that asks for replies matching the request's schema: OpenAI's
    `json_schema` form, not strict (OpenAI's strict mode takes a subset of JSON Schema and
    rejects the rest; vLLM, SGLang and llama.cpp's server constrain to the schema either way).
    The schema's `title` names it, as the API requires a name."""
    schema = request.json_schema() or {}
    name = re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title") or "reply"))[:64]
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": False}}


# What a server that cannot constrain replies says when refusing a request for it: HTTP 400 (or
# 422, a validation error) naming the field or the schema.
_FORMAT_WORDS = re.compile(r"response_format|json_schema|schema|guided|structured", re.I)


def _refuses_format(err: openai.APIStatusError) -> bool:
    return err.status_code in (400, 422) and bool(_FORMAT_WORDS.search(str(err)))


class _Malformed(Exception):
    """A reply that is not a completion: not JSON, or JSON without usable choices."""


_BEARER = re.compile(r"((?:Bearer|api[-_]key)[\s\"':=]+)[^\s\"',}]+", re.IGNORECASE)


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
