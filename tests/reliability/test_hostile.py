"""Hostile endpoints: the `openai` backend behind a proxy that injects every fault kind at random
(429 with Retry-After, 500/502/503, resets, replies slower than the timeout, truncated bodies,
invalid JSON, fewer choices than `n`, empty choices). Every request completes or fails with a
clear SynthRLError in bounded time, no reply is paid for twice, and with the proxy removed a
rerun finishes from the cache, asking the server only for what never arrived; a whole
`synthrl run` through the proxy ends or stops with a clear error, and the same command, the
faults gone, finishes and asks nothing twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.openai_backend import OpenAIBackend
from tests.conftest import REPO
from tests.reliability import world
from tests.reliability.netfaults import FAULTS, FaultProxy, InstantServer

TIMEOUT_S, RETRIES, BACKOFF_S = 3.0, 2, 0.05  # a 1 s timeout fails on 2 busy cores


def backend(url: str) -> OpenAIBackend:
    return OpenAIBackend(
        "m", url, "sk-test", concurrency=8, max_retries=RETRIES, timeout_s=TIMEOUT_S,
        backoff_s=BACKOFF_S,
    )  # fmt: skip


def bound_s(requests: int) -> float:
    """The longest a batch may take: per request, every retry loop (transport retries inside
    each of the empty-choice and malformed-reply retries) at its longest, spread over the
    concurrency."""
    per_call = (RETRIES + 1) * (TIMEOUT_S + 8.0)  # the client's backoff is capped at 8 s
    per_request = (2 * RETRIES + 3) * per_call
    return per_request * max(1, requests // 8 + 1) + 30


def requests(count: int) -> list[Request]:
    return [
        Request.chat([{"role": "user", "content": f"question {i}"}], n=1 + i % 3, seed=i)
        for i in range(count)
    ]


def run_batches(llm: LLM, batch: list[Request], size: int) -> tuple[int, list[str]]:
    """(requests completed, error messages) over batches of `size`, each timed."""
    done, errors = 0, []
    for start in range(0, len(batch), size):
        part = batch[start : start + size]
        began = time.monotonic()
        try:
            results = llm.generate(part, stage="hostile")
            done += sum(len(r.samples) == q.n for r, q in zip(results, part, strict=True))
        except SynthRLError as err:
            errors.append(str(err))
        assert time.monotonic() - began < bound_s(len(part)), "a batch hung"
    return done, errors


@pytest.mark.parametrize("seed", [0, 1])
def test_faults_then_resume_without_proxy(tmp_path: Path, seed: int) -> None:
    batch = requests(30)
    cache = CallCache(tmp_path / "calls.sqlite")
    with InstantServer() as server, FaultProxy(server.url, 0.5, seed, TIMEOUT_S + 1) as proxy:
        llm = LLM(backend(proxy.url), cache, Ledger(), "hostile", show_progress=False)
        done, errors = run_batches(llm, batch, 15)
        assert sum(proxy.injected[f] for f in FAULTS) >= 10, proxy.injected
        assert proxy.duplicates() == 0
        for error in errors:
            assert "Traceback" not in error and "sk-test" not in error
        # the same requests straight to the server: only what never arrived is asked again
        answered_before = server.requests
        direct = LLM(backend(server.url), cache, Ledger(), "hostile", show_progress=False)
        # the cache keys name the endpoint: the proxy's answers are the proxy URL's
        direct.backend.model = llm.backend.model
        results = direct.generate(batch, stage="resume")
    assert all(len(r.samples) == q.n for r, q in zip(results, batch, strict=True))
    missing = sum(q.n for q in batch) - sum(
        sum(not s.cached for s in r.samples) == 0 for r in results
    )
    assert missing >= 0
    fresh = sum(1 for r in results for s in r.samples if not s.cached)
    assert (fresh == 0) == (done == len(batch) and not errors)
    assert server.requests - answered_before <= fresh
    cache.close()


def test_each_fault_alone_is_survived_or_explained(tmp_path: Path) -> None:
    """Every fault kind on every request: the kind's clear error, or (fewer choices, a fault
    that still makes progress) completion; never a traceback, never a hang."""
    expected = {
        "429": "HTTP 429",
        "500": "unreachable",
        "502": "unreachable",
        "503": "unreachable",
        "reset": "unreachable",
        "slow": "unreachable",
        "truncated": "unreachable",
        "invalid": "not completions",
        "empty": "without any choice",
    }
    with InstantServer() as server:
        for fault in FAULTS:
            with FaultProxy(server.url, 1.0, 0, TIMEOUT_S + 1, (fault,)) as proxy:
                llm = LLM(backend(proxy.url), None, Ledger(), "x", show_progress=False)
                done, errors = run_batches(llm, requests(3), 3)
            if fault == "fewer":
                assert done == 0 and errors and "without any choice" in errors[0], errors
            else:
                assert errors and expected[fault] in errors[0], (fault, errors)


def test_a_run_through_the_proxy_resumes(tmp_path: Path) -> None:
    """The instructor stages of a run through the proxy (faults on 30 % of the requests), then
    the same command with the faults gone (a clean proxy on the same address, so that the
    endpoint, and with it the cache keys, are the same)."""
    task = world.write_task(tmp_path / "task")
    settings = [f"llm.timeout_s={TIMEOUT_S}", "llm.max_retries=3", f"llm.backoff_s={BACKOFF_S}"]
    extra = ["--to", "adapt", *(x for s in settings for x in ("--set", s))]
    args = world.command(task, tmp_path / "run", tmp_path / "calls.sqlite", *extra)
    with InstantServer(world.served) as server:
        faulty = FaultProxy(server.url, 0.3, 7, TIMEOUT_S + 1)
        with faulty:
            args[args.index("fake:instructor")] = f"openai:{faulty.url}#instructor"
            first = synthrl(args)
        clean = FaultProxy(server.url, 0.0)
        clean.port = faulty.port
        with clean:
            second = synthrl(args)
    assert sum(faulty.injected[f] for f in FAULTS) >= 5, faulty.injected
    assert first.returncode in (0, 1) and "Traceback" not in first.stdout, first.stdout
    if first.returncode == 1:
        assert "error:" in first.stdout, first.stdout
    assert second.returncode == 0, second.stdout
    assert faulty.duplicates() == 0 and clean.duplicates() == 0
    assert not set(faulty.delivered) & set(clean.delivered)  # nothing delivered asked again
    assert (tmp_path / "run" / "adapt" / "manifest.json").is_file()


def synthrl(args: list[str]) -> subprocess.CompletedProcess[str]:
    """`synthrl ARGS` in the fake world, in a process of its own (stdout with stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "tests.reliability.world", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "200"},
    )
