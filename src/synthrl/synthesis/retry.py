"""Bounded parse retries: ask the instructor, parse each reply, re-ask only the replies that did
not parse, at most `retries` more times. Used by `keywords`, `generate` and `adapt`.

Attempt `a` of a request asks for sample `request.first_sample + a`, so every retry has its own
cache key (a resumed run replays each attempt from the cache) and attempt 0 is the request as
given. A caller that sends the same prompt more than once spaces their `first_sample` values by
`retries + 1` so that their retries do not collide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from synthrl.llm.base import Request, Result

T = TypeVar("T")
# `generate(requests, desc=...)`: a stage's model, e.g. partial(ctx.generate, "instructor").
Generate = Callable[..., list[Result]]
# `parse(result) -> (value, "ok")` or `(None, why it failed)`.
Parse = Callable[[Result], tuple[T | None, str]]


@dataclass
class Reply:
    """One answered attempt: which request, which attempt, the reply text and its verdict."""

    index: int
    attempt: int
    text: str
    reason: str  # "ok", or why it did not parse


@dataclass
class Parsed(Generic[T]):
    """What `ask_parsed` got: values by request index, the final failures (reason and last
    reply) of the requests that never parsed, and every reply in order of asking."""

    values: dict[int, T] = field(default_factory=dict)
    failures: dict[int, Reply] = field(default_factory=dict)
    replies: list[Reply] = field(default_factory=list)

    @property
    def after_retry(self) -> int:
        """How many requests parsed only on a retry."""
        first_failed = {r.index for r in self.replies if r.attempt == 0 and r.reason != "ok"}
        return len(first_failed & self.values.keys())


def ask_parsed(
    generate: Generate,
    requests: Sequence[Request],
    parse: Parse[T],
    retries: int,
    desc: str,
) -> Parsed[T]:
    """Ask every request once, then re-ask the ones whose reply `parse` rejects, at most
    `retries` times each (one sample per attempt, `first_sample + attempt`)."""
    out: Parsed[T] = Parsed()
    pending = list(range(len(requests)))
    for attempt in range(retries + 1):
        if not pending:
            break
        asked = [requests[i].with_samples(requests[i].first_sample + attempt, 1) for i in pending]
        label = desc if attempt == 0 else f"{desc} (retry {attempt})"
        results = generate(asked, desc=label)
        still = []
        for i, result in zip(pending, results, strict=True):
            value, reason = parse(result)
            reply = Reply(i, attempt, result.texts[0] if result.samples else "", reason)
            out.replies.append(reply)
            if value is None:
                out.failures[i] = reply
                still.append(i)
            else:
                out.values[i] = value
                out.failures.pop(i, None)
        pending = still
    return out
