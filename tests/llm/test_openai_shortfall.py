"""The `openai` backend against servers that answer HTTP 200 with fewer choices than asked:
topped up when some arrive, a bounded clear error when none do, every arrived sample cached."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.openai_backend import OpenAIBackend
from tests.llm.loopback import StubServer

CHAT = [{"role": "user", "content": "hi"}]
LIMIT_2 = ["--bench", "gsm8k", "--limit", "2"]


def llm_for(url: str, cache: CallCache | None = None, **kwargs: Any) -> LLM:
    backend = OpenAIBackend("m", url, "EMPTY", **{"backoff_s": 0.01, **kwargs})
    return LLM(backend, cache, Ledger(), "m", show_progress=False)


def one_choice(body: dict[str, Any]) -> list[str]:
    """A server that returns one choice whatever n is; the text names the seed it was sent."""
    return [f"seed {body['seed']}"]


def test_empty_choices_end_in_a_bounded_error_naming_the_endpoint() -> None:
    with StubServer(lambda body: []) as server:
        started = time.monotonic()
        with pytest.raises(SynthRLError) as err:
            llm_for(server.url, max_retries=2).generate([Request.chat(CHAT)], stage="t")
        assert time.monotonic() - started < 10
        assert len(server.bodies) == 3  # the first call and max_retries more
    message = str(err.value)
    assert server.url in message and "without any choice" in message and "'m'" in message


def test_fewer_choices_are_topped_up_and_each_part_is_cached(tmp_path: Path) -> None:
    cache = CallCache(tmp_path / "c.sqlite")
    with StubServer(one_choice) as server:
        llm = llm_for(server.url, cache, max_retries=0)
        request = Request.chat(CHAT, n=4, temperature=0.7, seed=1)
        result = llm.generate([request], stage="t")[0]
    assert [body.get("n", 1) for body in server.bodies] == [4, 3, 2, 1]
    assert result.texts == [f"seed {request.sample_seed(j)}" for j in range(4)]
    assert len(cache) == 4
    usage = llm.ledger.by_stage("t")
    assert usage.requests == 4 and usage.prompt_tokens == 4 * 3 and usage.samples == 4


def test_samples_before_a_failure_stay_in_the_cache(tmp_path: Path) -> None:
    cache = CallCache(tmp_path / "c.sqlite")
    request = Request.chat(CHAT, n=4, temperature=0.7)
    left: list[int | None] = [2]  # choices the server gives before it goes quiet; None: all

    def scripted(body: dict[str, Any]) -> list[str]:
        if left[0] is None:
            return one_choice(body)
        if left[0] > 0:
            left[0] -= 1
            return one_choice(body)
        return []

    with StubServer(scripted) as server:
        with pytest.raises(SynthRLError, match="2 of 4 samples"):
            llm_for(server.url, cache, max_retries=1).generate([request], stage="t")
        assert len(cache) == 2
        left[0] = None
        asked = len(server.bodies)
        rerun = llm_for(server.url, cache).generate([request], stage="t")[0]
        seeds = [body["seed"] for body in server.bodies[asked:]]
    assert [s.cached for s in rerun.samples] == [True, True, False, False]
    assert rerun.texts == [f"seed {request.sample_seed(j)}" for j in range(4)]
    assert seeds == [request.sample_seed(2), request.sample_seed(3)]


def test_cli_eval_against_a_server_with_no_choices_fails_cleanly(tmp_path: Path) -> None:
    """Acceptance: `synthrl eval openai:URL#m --bench gsm8k --limit 2` ends within a minute
    with a clear error, no traceback, at the default retry settings."""
    env = {**os.environ, "SYNTHRL_HOME": str(tmp_path / "home")}
    with StubServer(lambda body: []) as server:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "synthrl.cli", "eval", f"openai:{server.url}#m", *LIMIT_2],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        elapsed = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    assert server.url in output and "without any choice" in output
    assert elapsed < 60
