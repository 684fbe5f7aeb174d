"""Kill points for `bench/faults.py`: a `synthrl run` in this process, with hooks that log
every *event* of the run and SIGKILL the process group at a planned one.

    FAULTS_LOG=LOG FAULTS_ROOT=RUN FAULTS_TARGET='stage<TAB>kind<TAB>j' \
        python -m tests.reliability.killpoints [--real] -- run TASK.yaml --out RUN ...

Events: the start of a stage (`stage`), a model call returning (`model`: the kill lands before
its result is stored, as if during the call), inside a call-cache transaction before its COMMIT
(`cache`), half-way through writing a file of the run directory (`write`; `manifest` for
manifest.json; `checkpoint` under a training checkpoint, and with `--real` inside the Trainer's
checkpoint save after the weights). The target (stage, kind, j) is "the j-th such event counted
over all invocations of the run" (counts are read back from the log). The log also records each
generated sample's cache key (`gen`) and each committed one (`commit`). Without `--real` the run
is in the fake world of `tests/reliability/world.py`.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

Target = tuple[str, str, int]


class Recorder:
    """Logs events (one line each, appended atomically) and kills the process group at the
    planned one. Counts are over all invocations of the run: they are read back from the log."""

    def __init__(self, log: Path, target: Target | None, root: Path) -> None:
        self.fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.target = target
        self.root = root.resolve()
        self.stage = "setup"
        self.counts: Counter[tuple[str, str]] = Counter()
        for line in log.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if parts[0] == "event" and len(parts) >= 3:
                self.counts[(parts[1], parts[2])] += 1

    def line(self, *fields: str) -> None:
        os.write(self.fd, ("\t".join(fields) + "\n").encode())

    def event(self, kind: str, detail: str = "") -> None:
        key = (self.stage, kind)
        self.counts[key] += 1
        self.line("event", self.stage, kind, detail)
        if self.target and key == self.target[:2] and self.counts[key] >= self.target[2]:
            self.line("kill", self.stage, kind, str(self.counts[key]), detail)
            os.killpg(os.getpgid(0), signal.SIGKILL)


class _Writer:
    """A file opened for writing under the run directory: the first write stops half-way, is
    flushed to the file, and is an event (a kill there leaves a half-written file)."""

    def __init__(self, fh: Any, rec: Recorder, kind: str, name: str) -> None:
        self._fh, self._rec, self._kind, self._name, self._first = fh, rec, kind, name, True

    def write(self, data: str | bytes) -> int:
        if self._first and len(data) > 1:
            self._first = False
            half = len(data) // 2
            self._fh.write(data[:half])
            self._fh.flush()
            self._rec.event(self._kind, self._name)
            return self._fh.write(data[half:]) + half
        return self._fh.write(data)

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._fh)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


def _hook_writes(rec: Recorder) -> None:
    original = Path.open

    def open_(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fh = original(self, mode, *args, **kwargs)
        path = self.resolve()
        if not set(mode) & set("wax") or not path.is_relative_to(rec.root):
            return fh
        parts = path.relative_to(rec.root).parts
        kind = (
            "manifest"
            if "manifest.json" in path.name
            else "checkpoint"
            if "checkpoints" in parts
            else "write"
        )
        return _Writer(fh, rec, kind, "/".join(parts))

    Path.open = open_  # type: ignore[method-assign]


class _CommitHook:
    """The cache's connection, with an event just before each COMMIT (inside the transaction)."""

    def __init__(self, db: sqlite3.Connection, rec: Recorder) -> None:
        self._db, self._rec = db, rec

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            self._rec.event("cache")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def _hook_cache(rec: Recorder) -> None:
    from synthrl.llm.cache import CallCache

    init, put_many = CallCache.__init__, CallCache.put_many

    def init_(self: CallCache, path: Any) -> None:
        init(self, path)
        self._db = _CommitHook(self._db, rec)  # type: ignore[assignment]

    def put_many_(self: CallCache, items: list[Any]) -> None:
        put_many(self, items)
        for key, _, _ in items:
            rec.line("commit", key)

    CallCache.__init__ = init_  # type: ignore[method-assign]
    CallCache.put_many = put_many_  # type: ignore[method-assign]


def _logged(rec: Recorder, inner: Any) -> Any:
    """A backend that reports each result as an event and logs the keys it generated."""
    from synthrl.llm.base import Backend

    class Logged(Backend):
        name = inner.name

        def __init__(self) -> None:
            super().__init__(inner.model)

        @property
        def priced_as(self) -> str:
            return str(inner.priced_as)

        def sampler_settings(self, request: Any = None) -> dict[str, object]:
            return dict(inner.sampler_settings(request))

        def generate(self, requests: Any, on_result: Any) -> None:
            seen = [0] * len(requests)

            def report(i: int, result: Any) -> None:
                rec.event("model", self.model)
                request, first = requests[i], requests[i].first_sample + seen[i]
                seen[i] += len(result.samples)
                for j in range(len(result.samples)):
                    rec.line("gen", rec.stage, request.sample_key(self.name, self.model, first + j))
                on_result(i, result)

            inner.generate(requests, report)

        def close(self) -> None:
            inner.close()

        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

    return Logged()


def _hook_models(rec: Recorder) -> None:
    from synthrl.llm import registry
    from synthrl.stages import evaluate

    for kind, factory in list(registry.BACKENDS.items()):
        registry.BACKENDS[kind] = lambda rest, cfg, f=factory: _logged(rec, f(rest, cfg))
    eval_backend = evaluate.eval_backend
    evaluate.eval_backend = lambda *a, **k: _logged(rec, eval_backend(*a, **k))


def _hook_stages(rec: Recorder) -> None:
    from synthrl.stages import STAGES

    def wrap(stage: Any) -> Callable[[Any], Any]:
        def run(ctx: Any) -> Any:
            rec.stage = ctx.stage  # a later round's stage is named round-R/<stage>
            rec.event("stage", rec.stage)
            return stage.run(ctx)

        return run

    STAGES[:] = [replace(stage, run=wrap(stage)) for stage in STAGES]


def _hook_trainer(rec: Recorder) -> None:
    """Real training: an event inside each checkpoint save, after the weights are written."""
    from transformers import Trainer

    save = Trainer._save_optimizer_and_scheduler

    def save_(self: Any, output_dir: str) -> None:
        rec.event("checkpoint", Path(output_dir).name)
        save(self, output_dir)

    Trainer._save_optimizer_and_scheduler = save_  # type: ignore[method-assign]


def main(argv: list[str]) -> None:
    """Run `synthrl` with `argv` under the hooks (the fake world unless `--real` leads)."""
    real = argv[:1] == ["--real"]
    argv = argv[1:] if real else argv
    argv = argv[1:] if argv[:1] == ["--"] else argv
    target_text = os.environ.get("FAULTS_TARGET", "")
    stage, kind, j = target_text.split("\t") if target_text else ("", "", "0")
    target = (stage, kind, int(j)) if target_text else None
    rec = Recorder(Path(os.environ["FAULTS_LOG"]), target, Path(os.environ["FAULTS_ROOT"]))
    if not real:
        from tests.reliability import world

        world.install()
    _hook_writes(rec)
    _hook_cache(rec)
    _hook_models(rec)
    _hook_stages(rec)
    if real:
        _hook_trainer(rec)
    from synthrl import cli

    sys.argv = ["synthrl", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
