"""Concurrent runs: a second `synthrl run` on a run directory in use refuses with a clear message;
the lock goes with its process however that ends (SIGKILL included; every resume in
test_kills.py takes the lock of a run just killed); runs sharing one call cache at once never
fail on "database is locked" and never lose an entry."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from synthrl.errors import SynthRLError
from synthrl.lock import RunLock
from tests.conftest import REPO
from tests.reliability import world

HOLD = """
import sys, time
from synthrl.lock import RunLock
RunLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(120)
"""


def fake_run(task: Path, out: Path, cache: Path, *extra: str) -> subprocess.Popen[str]:
    """`synthrl run` in the fake world, in a process of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.world", *world.command(task, out, cache, *extra)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def finish(proc: subprocess.Popen[str], timeout: float = 900) -> tuple[int, str]:
    """Wait for a process (the bound is for a machine under load; a run takes ~5 s alone)."""
    output, _ = proc.communicate(timeout=timeout)
    return proc.returncode, output


def test_lock_is_exclusive_and_reusable(tmp_path: Path) -> None:
    first = RunLock(tmp_path / "run").acquire()
    with pytest.raises(SynthRLError, match=r"in use by another synthrl run \(pid \d+"):
        RunLock(tmp_path / "run").acquire()
    first.release()
    with RunLock(tmp_path / "run") as again:
        assert again.held
    assert not again.held


def test_second_run_refuses_and_a_killed_holder_releases(tmp_path: Path) -> None:
    task = world.write_task(tmp_path / "task")
    out, cache = tmp_path / "run", tmp_path / "calls.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        code, output = finish(fake_run(task, out, cache, "--to", "keywords"))
        assert code == 1 and "Traceback" not in output, output
        assert f"in use by another synthrl run (pid {holder.pid}" in output
        assert not (out / "keywords").exists()  # refused before touching anything
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    code, output = finish(fake_run(task, out, cache, "--to", "keywords"))
    assert code == 0, output


CACHE_WRITER = """
import sys
from synthrl.llm.base import Sample
from synthrl.llm.cache import CallCache
path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(count):  # a new connection now and then, as every new run opens one
    cache = CallCache(path) if i % 50 == 0 else cache
    cache.put_many([(f"{name}-{i}", Sample(f"text {i}", "stop", 3), 5)])
    cache.get_many([f"{name}-{i}", f"other-{i}"])
print("ok", flush=True)
"""


def test_processes_sharing_one_cache_lose_nothing(tmp_path: Path) -> None:
    """Three processes commit 300 entries each into one cache file at the same time."""
    path, count = tmp_path / "calls.sqlite", 300
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CACHE_WRITER, str(path), f"w{n}", str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=REPO,
        )
        for n in range(3)
    ]
    outputs = [finish(proc) for proc in procs]
    assert all(code == 0 and output.strip() == "ok" for code, output in outputs), outputs
    with sqlite3.connect(path) as db:
        keys = {row[0] for row in db.execute("SELECT key FROM samples")}
    assert keys == {f"w{n}-{i}" for n in range(3) for i in range(count)}


def test_two_runs_at_once_on_one_cache(tmp_path: Path) -> None:
    """Both finish; a third run then finds every call of theirs in the cache."""
    task = world.write_task(tmp_path / "task")
    cache = tmp_path / "calls.sqlite"
    procs = [fake_run(task, tmp_path / f"run{n}", cache) for n in range(2)]
    results = [finish(proc) for proc in procs]
    assert all(code == 0 and "locked" not in output for code, output in results), results
    code, output = finish(fake_run(task, tmp_path / "run2", cache))
    assert code == 0, output
    usage = json.loads((tmp_path / "run2" / "usage.json").read_text())
    # the one exception: this run trained weights of its own (tagged by file size and time),
    # so their evaluation is new; every call to the instructor and the base model is cached
    shared = [row for row in usage if not row["model"].startswith("trained@")]
    assert len(shared) == len(usage) - 1
    assert sum(row["requests"] for row in shared) == 0
    assert sum(row["cache_hits"] for row in shared) > 0
