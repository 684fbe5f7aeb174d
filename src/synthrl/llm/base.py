"""The narrow interface every LLM backend implements: a batch of requests in, completions out."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Request:
    """One prompt (chat `messages` or a raw `prompt`) and how to sample `n` completions for it."""

    messages: tuple[tuple[str, str], ...] | None = None  # ((role, content), ...)
    prompt: str | None = None
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0  # 1 = off
    top_k: int = 0  # 0 = off
    min_p: float = 0.0  # 0 = off
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    seed: int = 0
    first_sample: int = (
        0  # index of the first of the n samples (for per-sample seeds and cache keys)
    )
    # The JSON Schema a reply should match, as compact JSON text (`schema_text`): backends that
    # can constrain decoding to it do (`Backend.structured`); the caller still parses the reply.
    schema: str | None = None

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("a Request needs exactly one of `messages` or `prompt`")
        if self.schema is not None:  # one spelling per schema, so one cache key
            object.__setattr__(self, "schema", schema_text(json.loads(self.schema)))
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        if self.top_k < 0 or not 0 < self.top_p <= 1 or not 0 <= self.min_p < 1:
            raise ValueError(
                f"need top_k >= 0, 0 < top_p <= 1 and 0 <= min_p < 1; got top_k={self.top_k}, "
                f"top_p={self.top_p}, min_p={self.min_p}"
            )

    @classmethod
    def chat(cls, messages: Sequence[dict[str, str]], **sampling: object) -> Request:
        """Build a chat request from OpenAI-style message dicts."""
        pairs = tuple((m["role"], m["content"]) for m in messages)
        return cls(messages=pairs, **sampling)  # type: ignore[arg-type]

    def json_schema(self) -> dict[str, Any] | None:
        """The reply's JSON Schema as a dict (None without one)."""
        return None if self.schema is None else json.loads(self.schema)

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages or ()]

    def sample_seed(self, index: int) -> int:
        """The seed of sample `index` (0-based over all samples ever drawn for this prompt)."""
        return (self.seed * 1_000_003 + index) % (2**31 - 1)

    def sample_key(self, backend: str, model: str, index: int) -> str:
        """Cache key of sample `index`: the full request less n/first_sample, plus the index.
        Fields added later (`top_k`, `min_p`, `schema`) enter the key only when set, so the keys
        of requests that leave them off are those of older synthrl versions."""
        payload = asdict(self)
        payload.pop("n")
        payload.pop("first_sample")
        for f in fields(self):
            if f.name in _LATER_FIELDS and payload[f.name] == f.default:
                del payload[f.name]
        payload.update(backend=backend, model=model, index=index)
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    def prompt_token_bound(self) -> int:
        """A generous count of the prompt's tokens without a tokenizer: one per 2 characters
        (English runs near 4 per token), plus a few per chat message for the template."""
        messages = self.messages or ()
        text = self.prompt if self.prompt is not None else "".join(c for _, c in messages)
        return len(text) // 2 + 8 * len(messages) + 1

    def with_samples(self, first: int, n: int) -> Request:
        """The same prompt and sampling settings, asking for samples first .. first+n-1."""
        return Request(**{**asdict(self), "first_sample": first, "n": n, "messages": self.messages})


_LATER_FIELDS = ("top_k", "min_p", "schema")  # added after caches existed: in keys when set


def schema_text(schema: Mapping[str, Any]) -> str:
    """A JSON Schema as `Request.schema` holds it: compact JSON, keys in their given order (a
    grammar writes an object's properties in that order)."""
    if not isinstance(schema, Mapping):
        raise ValueError(f"a reply schema must be a JSON object, got {type(schema).__name__}")
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Sample:
    """One completion."""

    text: str
    finish_reason: str = "stop"
    completion_tokens: int = 0
    cached: bool = False


@dataclass
class Result:
    """The n completions of one request and the tokens they cost."""

    samples: list[Sample] = field(default_factory=list)
    prompt_tokens: int = 0

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.samples]

    @property
    def completion_tokens(self) -> int:
        return sum(s.completion_tokens for s in self.samples)


OnResult = Callable[[int, Result], None]

REPETITION_PENALTY = 1.0  # off: no backend penalises repeats (the trainer's rollouts do not)


def pure_sampling() -> dict[str, float]:
    """The sampler every stage and the trainer's rollouts share: temperature only, with top-k,
    top-p, min-p and the repetition penalty off (`Request`'s defaults; TRL's GRPOConfig
    defaults too, bar min-p None, which lets a model's generation_config choose)."""
    default = Request(prompt="")
    return {
        "top_k": default.top_k,
        "top_p": default.top_p,
        "min_p": default.min_p,
        "repetition_penalty": REPETITION_PENALTY,
    }


class Backend(ABC):
    """An inference engine. `generate` calls `on_result(i, result)` as request i's samples
    complete, so that callers (the cache) can persist work before the batch ends. A backend may
    report a request in several consecutive parts (e.g. a server that returns fewer choices than
    asked): each part's samples follow the previous part's, and together they are the n asked."""

    name: str = "backend"
    free: bool = True  # runs on this machine: costs nothing unless a price file says otherwise
    # Decodes a request's `schema` as a constraint (a grammar, `response_format`, guided
    # decoding); the client drops the schema from requests to backends that cannot, so that
    # their cache keys stay those of the same request without one.
    structured: bool = False

    def __init__(self, model: str) -> None:
        self.model = model  # names the model in every cache key: whatever changes the answer

    @property
    def priced_as(self) -> str:
        """The model name the usage ledger looks up prices for."""
        return self.model

    @property
    def price_provider(self) -> dict[str, str] | None:
        """Where the maintained price table looks the model up (`provider_id` or
        `provider_api_url`); None for engines on this machine."""
        return None

    @abstractmethod
    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        """Answer every request; raise SynthRLError if the engine cannot."""

    def sampler_settings(self, request: Request | None = None) -> dict[str, object]:
        """The sampler this backend applies to `request` (default: a sampled request with the
        default settings), for stages to record beside what they generate. Backends override
        what they cannot set (see docs/sampling.md)."""
        request = request or Request(prompt="", temperature=1.0)
        return {
            "backend": self.name,
            "model": self.model,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "top_k": request.top_k,
            "min_p": request.min_p,
            "repetition_penalty": REPETITION_PENALTY,
        }

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release engine resources (memory, GPU). Safe to call more than once."""
