"""The call cache: hits, partial hits, persistence, and a SIGKILL in the middle of 200 requests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.base import Result
from synthrl.llm.fake import FakeBackend


def echo(request: Request, index: int) -> str:
    return f"{request.prompt}#{index}"


def make_llm(path: Path, backend: FakeBackend) -> LLM:
    return LLM(backend, CallCache(path), Ledger(), label="fake", show_progress=False)


def test_second_call_is_served_from_cache(tmp_path: Path) -> None:
    backend = FakeBackend(responder=echo)
    llm = make_llm(tmp_path / "c.sqlite", backend)
    requests = [Request(prompt=f"p{i}", n=3, temperature=0.7) for i in range(5)]
    first = llm.generate(requests, stage="s")
    assert [r.texts for r in first] == [[f"p{i}#{j}" for j in range(3)] for i in range(5)]
    again = make_llm(tmp_path / "c.sqlite", FakeBackend(responder=echo)).generate(
        requests, stage="s"
    )
    assert [r.texts for r in again] == [r.texts for r in first]
    assert all(s.cached for r in again for s in r.samples)
    assert len(backend.calls) == 5


def test_a_dumped_cache_loaded_elsewhere_repays_nothing(tmp_path: Path) -> None:
    requests = [Request(prompt=f"p{i}", n=2, temperature=0.7) for i in range(4)]
    first = make_llm(tmp_path / "a.sqlite", FakeBackend(responder=echo)).generate(
        requests, stage="s"
    )
    assert CallCache(tmp_path / "a.sqlite").dump(tmp_path / "state.jsonl") == 8
    fresh = CallCache(tmp_path / "b.sqlite")
    assert fresh.load(tmp_path / "state.jsonl") == 8
    assert fresh.load(tmp_path / "state.jsonl") == 0  # loading again adds nothing
    assert fresh.load(tmp_path / "missing.jsonl") == 0
    backend = FakeBackend(responder=echo)
    again = make_llm(tmp_path / "b.sqlite", backend).generate(requests, stage="s")
    assert [r.texts for r in again] == [r.texts for r in first]
    assert backend.calls == []


def test_a_damaged_cache_dump_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state.jsonl").write_text('{"key": "k"}\n')
    with pytest.raises(SynthRLError, match=r"state\.jsonl:1 is not a call-cache entry"):
        CallCache(tmp_path / "c.sqlite").load(tmp_path / "state.jsonl")


def test_partial_hits_request_only_missing_samples(tmp_path: Path) -> None:
    llm = make_llm(tmp_path / "c.sqlite", FakeBackend(responder=echo))
    llm.generate([Request(prompt="q", n=4, temperature=1.0)], stage="a")
    backend = FakeBackend(responder=echo)
    llm2 = make_llm(tmp_path / "c.sqlite", backend)
    result = llm2.generate([Request(prompt="q", n=10, temperature=1.0)], stage="b")[0]
    assert result.texts == [f"q#{j}" for j in range(10)]
    assert [(c.first_sample, c.n) for c in backend.calls] == [(4, 6)]
    usage = llm2.ledger.by_stage("b")
    assert usage.cache_hits == 4 and usage.requests == 1 and usage.samples == 10


def test_cache_hits_keep_what_they_cost_when_drawn(tmp_path: Path) -> None:
    """The ledger counts what the cache saved: tokens of cached samples, and the requests and
    prompts it answered whole (a partly cached request pays its prompt again)."""
    llm = make_llm(tmp_path / "c.sqlite", FakeBackend(responder=echo))
    requests = [Request(prompt="one two three", n=2, temperature=1.0)]
    drawn = llm.generate(requests, stage="a")[0]
    first = llm.ledger.by_stage("a")
    assert first.cached_requests == first.cached_completion_tokens == 0
    llm2 = make_llm(tmp_path / "c.sqlite", FakeBackend(responder=echo))
    whole = llm2.generate(requests, stage="b")[0]
    partial = llm2.generate([Request(prompt="one two three", n=3, temperature=1.0)], stage="c")
    b, c = llm2.ledger.by_stage("b"), llm2.ledger.by_stage("c")
    assert whole.texts == drawn.texts and b.requests == b.completion_tokens == 0
    assert (b.cached_requests, b.cached_prompt_tokens) == (1, first.prompt_tokens) == (1, 3)
    assert b.cached_completion_tokens == first.completion_tokens > 0
    assert partial[0].texts[:2] == drawn.texts and c.requests == 1
    assert (c.cached_requests, c.cached_prompt_tokens) == (0, 0)
    assert c.cached_completion_tokens == first.completion_tokens


class PartsBackend(FakeBackend):
    """A batch engine's way of answering: each sample its own part as it finishes, the prompt's
    tokens on the first part only (synthrl/llm/llamacpp_batch.py)."""

    def generate(self, requests, on_result) -> None:  # type: ignore[no-untyped-def]
        def split(i: int, result: Result) -> None:
            for j, sample in enumerate(result.samples):
                on_result(
                    i, Result(samples=[sample], prompt_tokens=result.prompt_tokens * (j == 0))
                )

        super().generate(requests, split)


def test_a_request_answered_in_parts_is_one_request(tmp_path: Path) -> None:
    llm = make_llm(tmp_path / "c.sqlite", PartsBackend(responder=echo))
    result = llm.generate([Request(prompt="one two", n=4, temperature=1.0)], stage="s")[0]
    usage = llm.ledger.by_stage("s")
    assert result.texts == [f"one two#{j}" for j in range(4)] and result.prompt_tokens == 2
    assert (usage.requests, usage.samples, usage.prompt_tokens) == (1, 4, 2)


def test_key_depends_on_sampling_settings(tmp_path: Path) -> None:
    backend = FakeBackend(responder=echo)
    llm = make_llm(tmp_path / "c.sqlite", backend)
    base = Request(prompt="q", temperature=0.7)
    for variant in (
        base,
        Request(prompt="q", temperature=0.8),
        Request(prompt="q", temperature=0.7, seed=1),
        Request(prompt="q", temperature=0.7, max_tokens=9),
        Request(prompt="q", temperature=0.7, stop=("x",)),
    ):
        llm.generate([variant], stage="s")
    llm.generate([base], stage="s")
    assert len(backend.calls) == 5


def test_no_cache_always_calls(tmp_path: Path) -> None:
    backend = FakeBackend(responder=echo)
    llm = LLM(backend, None, Ledger(), label="fake", show_progress=False)
    llm.generate([Request(prompt="q")], stage="s")
    llm.generate([Request(prompt="q")], stage="s")
    assert len(backend.calls) == 2


WORKER = textwrap.dedent(
    """
    import sys, time
    from synthrl.llm import LLM, CallCache, Ledger, Request
    from synthrl.llm.fake import FakeBackend

    def slow(request, index):
        time.sleep(0.01)
        return "answer to " + request.prompt
    marker = sys.argv[2]
    backend = FakeBackend(responder=slow)
    llm = LLM(backend, CallCache(sys.argv[1]), Ledger(), label="fake", show_progress=False)
    requests = [Request(prompt=f"q{i}") for i in range(200)]
    results = llm.generate(requests, stage="s")
    open(marker, "w").write(str(len(backend.calls)))
    assert [r.texts[0] for r in results] == [f"answer to q{i}" for i in range(200)]
    """
)


def test_sigkill_mid_batch_loses_no_completed_call(tmp_path: Path) -> None:
    db, marker = tmp_path / "calls.sqlite", tmp_path / "done"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    proc = subprocess.Popen([sys.executable, str(script), str(db), str(marker)])
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until some, but not all, requests are stored
        time.sleep(0.05)
        if db.exists() and 20 < _count(db) < 150:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = _count(db)
    assert 20 < stored < 200, stored
    # Rerun: every stored request is a hit; only the rest is generated; results are complete.
    rerun = subprocess.run([sys.executable, str(script), str(db), str(marker)], check=True)
    assert rerun.returncode == 0
    assert int(marker.read_text()) == 200 - stored
    assert _count(db) == 200


def _count(db: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
