"""`LLM`: a backend behind the persistent call cache and the usage ledger. Stages call this."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from synthrl.llm.base import Backend, Request, Result, Sample
from synthrl.llm.cache import CallCache
from synthrl.llm.usage import Ledger, Usage


def progress_bar(transient: bool = True) -> Progress:
    """The progress bar used for every loop over requests or samples."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=transient,
    )


class LLM:
    """Generate through a backend, answering from the cache first and recording usage."""

    def __init__(
        self,
        backend: Backend,
        cache: CallCache | None,
        ledger: Ledger,
        label: str,
        show_progress: bool = True,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.ledger = ledger
        self.label = label  # the model as shown in accounting, e.g. "embedded:base"
        self.show_progress = show_progress

    def generate(self, requests: Sequence[Request], stage: str, desc: str = "") -> list[Result]:
        """Answer every request (n samples each), in order. Completed calls are cached at once."""
        started = time.perf_counter()
        usage = Usage()
        slots: list[list[Sample | None]] = [[None] * r.n for r in requests]
        prompt_tokens = [0] * len(requests)
        keys = [self._keys(r) for r in requests]
        hits = self.cache.get_many([k for ks in keys for k in ks]) if self.cache else {}
        todo: list[tuple[int, int, Request]] = []  # (request index, slot offset, sub-request)
        for i, (request, request_keys) in enumerate(zip(requests, keys, strict=True)):
            for j, key in enumerate(request_keys):
                if key in hits:
                    slots[i][j], prompt_tokens[i] = hits[key]
                    usage.cache_hits += 1
            for start, count in _missing_runs(slots[i]):
                todo.append((i, start, request.with_samples(request.first_sample + start, count)))

        def on_result(index: int, result: Result) -> None:
            i, start, sub = todo[index]
            if len(result.samples) != sub.n:
                raise RuntimeError(f"{self.backend.name} returned {len(result.samples)} of {sub.n}")
            slots[i][start : start + sub.n] = result.samples
            prompt_tokens[i] = result.prompt_tokens
            usage.requests += 1
            usage.prompt_tokens += result.prompt_tokens
            usage.completion_tokens += result.completion_tokens
            if self.cache is not None:
                rows = [
                    (keys[i][start + j], sample, result.prompt_tokens)
                    for j, sample in enumerate(result.samples)
                ]
                self.cache.put_many(rows)
            if bar is not None:
                bar.advance(task_id)

        bar = progress_bar() if (self.show_progress and todo) else None
        try:
            if bar is not None:
                bar.start()
                task_id = bar.add_task(desc or f"{stage}: {self.label}", total=len(todo))
            if todo:
                self.backend.generate([sub for _, _, sub in todo], on_result)
        finally:
            if bar is not None:
                bar.stop()
            usage.samples = sum(s is not None for row in slots for s in row)
            usage.wall_s = time.perf_counter() - started
            usage.cost_usd = self.ledger.price(
                self.backend.model, usage.prompt_tokens, usage.completion_tokens
            )
            self.ledger.record(stage, self.label, usage)
        return [
            Result(samples=[s for s in row if s is not None], prompt_tokens=p)
            for row, p in zip(slots, prompt_tokens, strict=True)
        ]

    def _keys(self, request: Request) -> list[str]:
        return [
            request.sample_key(self.backend.name, self.backend.model, request.first_sample + j)
            for j in range(request.n)
        ]

    def close(self) -> None:
        self.backend.close()


def _missing_runs(row: list[Sample | None]) -> list[tuple[int, int]]:
    """Contiguous (start, length) runs of empty slots."""
    runs: list[tuple[int, int]] = []
    start = None
    for j, sample in enumerate([*row, object()]):
        if sample is None and start is None:
            start = j
        elif sample is not None and start is not None:
            runs.append((start, j - start))
            start = None
    return runs
