"""`LLM`: a backend behind the persistent call cache, the usage ledger and the budget. Stages
call this. Its progress bar shows done / total, elapsed time, an ETA, the completion tokens so
far and their cost (`unknown` for a model with no known price)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from synthrl.errors import SynthRLError
from synthrl.llm.base import Backend, OnResult, Request, Result, Sample
from synthrl.llm.cache import CallCache
from synthrl.llm.usage import Budget, Ledger, Usage, format_usd


class FieldColumn(ProgressColumn):
    """A task field (`tokens`, `usd`) as text; empty for tasks that do not set it."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def render(self, task: Task) -> Text:
        return Text(str(task.fields.get(self.name, "")))


class LoggedProgress(Progress):
    """A rich progress bar that, when its console is not a terminal (output to a log file, CI,
    `nohup`), where rich draws nothing until the end, writes a plain line to stderr instead:
    at most every `log_every` seconds, and once when a task completes unless the bar is not
    transient (rich then writes its final state)."""

    def __init__(self, *columns: Any, log_every: float = 60.0, **kwargs: Any) -> None:
        super().__init__(*columns, **kwargs)
        self.log_every = log_every
        self.log = Console(stderr=True, highlight=False, soft_wrap=True)
        self.last: dict[TaskID, float] = {}  # when each task's last line was written
        self.done: set[TaskID] = set()  # tasks whose final line is written

    def update(self, task_id: TaskID, **kwargs: Any) -> None:  # type: ignore[override]
        super().update(task_id, **kwargs)
        self.log_line(task_id)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self.log_line(task_id)

    def log_line(self, task_id: TaskID) -> None:
        """Write the task's state as one plain line when the console is not a terminal, the
        task just finished, or `log_every` seconds have passed since its last line."""
        if self.console.is_terminal or task_id in self.done:
            return
        with self._lock:
            task = self._tasks[task_id]
            now = time.monotonic()
            if task.finished:
                self.done.add(task_id)
                if not self.live.transient:  # rich writes a lasting bar's final state itself
                    return
            elif now - self.last.setdefault(task_id, now) < self.log_every:
                return
            self.last[task_id] = now
        self.log.print(progress_line(task))


def progress_line(task: Task) -> str:
    """`desc: done/total elapsed 0:01:02 eta 0:03:00 1,234 tok`, a progress bar as text."""
    elapsed = task.finished_time if task.finished else task.elapsed
    left = task.time_remaining
    parts = [
        f"{task.description}: {task.completed:g}/{task.total:g}"
        if task.total
        else task.description,
        f"elapsed {timedelta(seconds=int(elapsed or 0))}",
        "" if task.finished or left is None else f"eta {timedelta(seconds=int(left))}",
        str(task.fields.get("tokens", "")),
        str(task.fields.get("usd", "")),
    ]
    return " ".join(part for part in parts if part)


def progress_bar(transient: bool = True) -> Progress:
    """The progress bar used for every loop over requests, samples or training steps: done /
    total, elapsed, ETA (from the rate over the last minutes: steps can be slow), and, where a
    task sets the `tokens` / `usd` fields (`bar_fields`), running tokens and cost. Written as
    plain lines when the output is not a terminal (`LoggedProgress`)."""
    return LoggedProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        FieldColumn("tokens"),
        FieldColumn("usd"),
        transient=transient,
        speed_estimate_period=600,
    )


def bar_fields(tokens: int | None = None, usd: str = "") -> dict[str, str]:
    """The `tokens` and `usd` fields of a progress bar task (empty when not counted)."""
    return {"tokens": "" if tokens is None else f"{tokens:,} tok", "usd": usd}


class LLM:
    """Generate through a backend, answering from the cache first and recording usage."""

    def __init__(
        self,
        backend: Backend,
        cache: CallCache | None,
        ledger: Ledger,
        label: str,
        show_progress: bool = True,
        budget: Budget | None = None,
        structured: bool = True,
    ) -> None:
        self.backend = backend
        self.cache = cache
        self.ledger = ledger
        self.label = label  # the model as shown in accounting, e.g. "embedded:base"
        self.show_progress = show_progress
        self.budget = budget  # stop before the call that would cross llm.budget_usd
        # Reply schemas reach the backend only when on (`llm.structured`) and when the backend
        # can constrain to them; otherwise requests go (and are keyed) as without one.
        self.structured = structured and backend.structured

    def price(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        """USD for these tokens of this model; None when its price is unknown."""
        backend = self.backend
        return self.ledger.price(
            backend.priced_as,
            prompt_tokens,
            completion_tokens,
            backend.price_provider,
            backend.free,
        )

    def generate(self, requests: Sequence[Request], stage: str, desc: str = "") -> list[Result]:
        """Answer every request (n samples each), in order. Completed calls are cached at once."""
        started = time.perf_counter()
        if not self.structured:
            requests = [replace(r, schema=None) if r.schema else r for r in requests]
        usage = Usage()
        slots: list[list[Sample | None]] = [[None] * r.n for r in requests]
        prompt_tokens = [0] * len(requests)
        keys = [self._keys(r) for r in requests]
        todo = self._from_cache(requests, keys, slots, prompt_tokens, usage)
        filled = [0] * len(todo)  # samples reported so far per sub-request

        def on_result(index: int, result: Result) -> None:
            i, start, sub = todo[index]
            offset = start + filled[index]
            filled[index] += len(result.samples)
            if filled[index] > sub.n:
                raise RuntimeError(f"{self.backend.name} returned {filled[index]} of {sub.n}")
            slots[i][offset : offset + len(result.samples)] = result.samples
            prompt_tokens[i] = max(prompt_tokens[i], result.prompt_tokens)
            # a part that pays no prompt (a batch engine's later parts of one request) is not a
            # request of its own; a top-up an endpoint was sent again is
            if offset == start or result.prompt_tokens:
                usage.requests += 1
            usage.prompt_tokens += result.prompt_tokens
            usage.completion_tokens += result.completion_tokens
            if self.cache is not None:
                rows = [
                    (keys[i][offset + j], sample, prompt_tokens[i])
                    for j, sample in enumerate(result.samples)
                ]
                self.cache.put_many(rows)
            if bar is not None:
                tokens = usage.completion_tokens
                cost = self.price(usage.prompt_tokens, tokens)
                usd = format_usd(cost or 0.0, 0 if cost is not None else 1)
                usd = "" if self.backend.free and not cost else usd  # local: no USD column
                done = 1 if filled[index] == sub.n else 0
                bar.update(task_id, advance=done, **bar_fields(tokens, usd))

        bar = progress_bar() if (self.show_progress and todo) else None
        try:
            if bar is not None:
                bar.start()
                task_id = bar.add_task(
                    desc or f"{stage}: {self.label}", total=len(todo), **bar_fields(0)
                )
            if todo:
                self._send([sub for _, _, sub in todo], on_result, usage)
            short = [(n, sub.n) for n, (_, _, sub) in zip(filled, todo, strict=True) if n < sub.n]
            if short:
                got, asked = short[0]
                raise RuntimeError(f"{self.backend.name} returned {got} of {asked} samples")
        finally:
            if bar is not None:
                bar.stop()
            usage.samples = sum(s is not None for row in slots for s in row)
            usage.wall_s = time.perf_counter() - started
            cost = self.price(usage.prompt_tokens, usage.completion_tokens)
            usage.cost_usd = cost or 0.0
            if cost is None:
                usage.unpriced_tokens = usage.prompt_tokens + usage.completion_tokens
            self.ledger.record(stage, self.label, usage)
        return [
            Result(samples=[s for s in row if s is not None], prompt_tokens=p)
            for row, p in zip(slots, prompt_tokens, strict=True)
        ]

    def _send(self, subs: list[Request], on_result: OnResult, usage: Usage) -> None:
        """Generate `subs`; under a budget, in runs that fit what is left of it, stopping
        before the first request whose most it can cost would cross it."""
        start = 0
        while start < len(subs):
            end = self._affordable(subs, start, usage) if self.budget else len(subs)
            if end == start:
                raise self._over_budget(subs[start], usage)
            self.backend.generate(
                subs[start:end], lambda k, result, first=start: on_result(first + k, result)
            )
            start = end

    def _affordable(self, subs: list[Request], start: int, usage: Usage) -> int:
        """The end of the longest run of `subs` from `start` whose upper-bound cost fits the
        budget, given what this run has spent so far (earlier commands, this one, this call)."""
        assert self.budget is not None
        spent = self.budget.spent(self.ledger) + (self.price(*_tokens(usage)) or 0.0)
        end = start
        for sub in subs[start:]:
            cost = self._most(sub)
            if spent + cost > self.budget.limit_usd:
                break
            spent += cost
            end += 1
        return end

    def _most(self, request: Request) -> float:
        """The most one request can cost: its prompt (a generous token count) and n full
        completions."""
        cost = self.price(request.prompt_token_bound(), request.n * request.max_tokens)
        if cost is None:
            raise SynthRLError(
                f"llm.budget_usd is set but the price of {self.backend.priced_as!r} is unknown, "
                "so the budget cannot be kept: add it to llm.prices_file (`MODEL: {input: USD_PER_"
                "1M, output: USD_PER_1M}`) or remove llm.budget_usd."
            )
        return cost

    def _over_budget(self, request: Request, usage: Usage) -> SynthRLError:
        assert self.budget is not None
        spent = self.budget.spent(self.ledger) + (self.price(*_tokens(usage)) or 0.0)
        return SynthRLError(
            f"budget reached: this run has spent ${spent:.4f} of llm.budget_usd "
            f"${self.budget.limit_usd:.4f}, and the next call to {self.label} could cost up to "
            f"${self._most(request):.4f}. Stopped before it; everything paid for is cached. Raise "
            "the budget to continue, e.g. `synthrl resume RUN --set llm.budget_usd=...`."
        )

    def _from_cache(
        self,
        requests: Sequence[Request],
        keys: list[list[str]],
        slots: list[list[Sample | None]],
        prompt_tokens: list[int],
        usage: Usage,
    ) -> list[tuple[int, int, Request]]:
        """Fill `slots` with cached samples; return what is left to generate as (request index,
        slot offset, sub-request) triples, one per run of missing samples."""
        hits = self.cache.get_many([k for ks in keys for k in ks]) if self.cache else {}
        todo: list[tuple[int, int, Request]] = []
        for i, (request, request_keys) in enumerate(zip(requests, keys, strict=True)):
            for j, key in enumerate(request_keys):
                if key in hits:
                    sample, tokens = hits[key]
                    slots[i][j] = sample
                    prompt_tokens[i] = max(prompt_tokens[i], tokens)
                    usage.cache_hits += 1
                    usage.cached_completion_tokens += sample.completion_tokens
            if request_keys and all(key in hits for key in request_keys):
                usage.cached_requests += 1
                usage.cached_prompt_tokens += prompt_tokens[i]
            for start, count in _missing_runs(slots[i]):
                todo.append((i, start, request.with_samples(request.first_sample + start, count)))
        return todo

    def _keys(self, request: Request) -> list[str]:
        return [
            request.sample_key(self.backend.name, self.backend.model, request.first_sample + j)
            for j in range(request.n)
        ]

    def sampler_settings(self, request: Request | None = None) -> dict[str, object]:
        """The backend's effective sampler for `request` (see `Backend.sampler_settings`)."""
        return self.backend.sampler_settings(request)

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


def _tokens(usage: Usage) -> tuple[int, int]:
    return usage.prompt_tokens, usage.completion_tokens
