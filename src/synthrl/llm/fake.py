"""A scripted fake backend for logic tests: `enqueue()` replies, or give a responder function."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from synthrl.llm.base import Backend, OnResult, Request, Result, Sample


def _limited(text: str, max_tokens: int) -> Sample:
    """A reply as a backend returns it: one token per word, cut at `max_tokens` (finish reason
    `length`), as a real backend cuts a completion at its token limit."""
    words = text.split(" ")
    if len(text.split()) <= max_tokens:
        return Sample(text, "stop", len(text.split()))
    return Sample(" ".join(words[:max_tokens]), "length", max_tokens)


class FakeBackend(Backend):
    """Answers each sample with the next queued text, or `responder(request, sample_index)`;
    a reply longer than the request's `max_tokens` words is cut there (finish reason
    `length`)."""

    name = "fake"
    structured = True  # keeps a request's schema (tests read it in `calls`); replies as scripted

    def __init__(
        self, model: str = "fake", responder: Callable[[Request, int], str] | None = None
    ) -> None:
        super().__init__(model)
        self.queue: deque[str] = deque()
        self.responder = responder
        self.calls: list[Request] = []

    def enqueue(self, *texts: str) -> FakeBackend:
        self.queue.extend(texts)
        return self

    def generate(self, requests: Sequence[Request], on_result: OnResult) -> None:
        for i, request in enumerate(requests):
            self.calls.append(request)
            samples = []
            for j in range(request.n):
                if self.responder is not None:
                    text = self.responder(request, request.first_sample + j)
                elif self.queue:
                    text = self.queue.popleft()
                else:
                    raise AssertionError("FakeBackend ran out of scripted replies")
                samples.append(_limited(text, request.max_tokens))
            prompt = request.prompt or " ".join(c for _, c in request.messages or ())
            on_result(i, Result(samples=samples, prompt_tokens=len(prompt.split())))
