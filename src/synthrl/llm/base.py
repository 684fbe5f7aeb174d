"""The narrow interface every LLM backend implements: a batch of requests in, completions out."""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Request:
    """One prompt (chat `messages` or a raw `prompt`) and how to sample `n` completions for it."""

    messages: tuple[tuple[str, str], ...] | None = None  # ((role, content), ...)
    prompt: str | None = None
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    stop: tuple[str, ...] = ()
    seed: int = 0
    first_sample: int = (
        0  # index of the first of the n samples (for per-sample seeds and cache keys)
    )

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("a Request needs exactly one of `messages` or `prompt`")
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")

    @classmethod
    def chat(cls, messages: Sequence[dict[str, str]], **sampling: object) -> Request:
        """Build a chat request from OpenAI-style message dicts."""
        pairs = tuple((m["role"], m["content"]) for m in messages)
        return cls(messages=pairs, **sampling)  # type: ignore[arg-type]

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages or ()]

    def sample_seed(self, index: int) -> int:
        """The seed of sample `index` (0-based over all samples ever drawn for this prompt)."""
        return (self.seed * 1_000_003 + index) % (2**31 - 1)

    def sample_key(self, backend: str, model: str, index: int) -> str:
        """Cache key of sample `index`: the full request less n/first_sample, plus the index."""
        payload = asdict(self)
        payload.pop("n")
        payload.pop("first_sample")
        payload.update(backend=backend, model=model, index=index)
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    def with_samples(self, first: int, n: int) -> Request:
        """The same prompt and sampling settings, asking for samples first .. first+n-1."""
        return Request(**{**asdict(self), "first_sample": first, "n": n, "messages": self.messages})


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


class Backend(ABC):
    """An inference engine. `generate` calls `on_result(i, result)` as each request completes,
    so that callers (the cache) can persist work before the batch ends."""

    name: str = "backend"

    def __init__(self, model: str) -> None:
        self.model = model

    @abstractmethod
    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        """Answer every request; raise SynthRLError if the engine cannot."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release engine resources."""
