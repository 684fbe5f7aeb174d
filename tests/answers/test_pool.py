"""The math-verify process pool: per-check timeouts, crashes, threads, in-process mode."""

from __future__ import annotations

import os
import threading
import time

import pytest

from synthrl.answers import judge, judge_many, mathpool
from synthrl.answers.equivalence import math_fast

# Takes sympy ~20 s in-process: the per-check timeout must cut it short.
SLOW = ("\\boxed{(x+1)^{3000}}", "(x+2)^{3000}")


def crashing_check(pred: str, gold: str, seconds: float | None) -> bool:
    """A check whose worker dies on one input (stands in for a segfault in a native library)."""
    if pred == "crash":
        os._exit(1)
    return pred == gold


def sleeping_check(pred: str, gold: str, seconds: float | None) -> bool:
    if pred == "sleep":
        time.sleep(60)
    return pred == gold


@pytest.fixture(autouse=True)
def warm_pool() -> None:
    mathpool.run([("1", "1")])


def test_slow_check_times_out_and_pool_recovers() -> None:
    start = time.monotonic()
    assert judge(SLOW[0], SLOW[1], "math", timeout=1) is False
    assert time.monotonic() - start < 3
    assert judge("\\boxed{2\\sqrt{2}}", "\\sqrt{8}", "math") is True


def test_timeout_fails_only_the_slow_check() -> None:
    pairs = [("a", "a"), ("sleep", "x"), ("b", "b"), ("c", "d"), ("e", "e")]
    start = time.monotonic()
    assert mathpool.run(pairs, timeout=1, check=sleeping_check) == [True, False, True, False, True]
    assert time.monotonic() - start < 5


def test_crash_fails_only_the_crashing_check() -> None:
    pairs = [("a", "a"), ("crash", "x"), ("b", "b"), ("c", "d"), ("e", "e"), ("f", "f")]
    assert mathpool.run(pairs, timeout=5, check=crashing_check) == [
        True,
        False,
        True,
        False,
        True,
        True,
    ]
    assert mathpool.run([("g", "g")], check=crashing_check) == [True]


def test_works_off_the_main_thread() -> None:
    """math-verify's signal.alarm fails off the main thread; the pool does not care."""
    results: list[bool] = []
    worker = threading.Thread(
        target=lambda: results.extend(
            judge_many(["\\boxed{\\sqrt{2}/2}", "\\boxed{x+1}"], "\\frac{1}{\\sqrt2}", "math")
        )
    )
    worker.start()
    worker.join(timeout=60)
    assert results == [True, False]


def test_in_process_mode_agrees() -> None:
    completions = ["\\boxed{\\sqrt{12}}", "\\boxed{2\\sqrt3}", "\\boxed{3\\sqrt2}"]
    pooled = judge_many(completions, "2\\sqrt{3}", "math")
    # different gold spelling, so the verdict cache does not answer for the in-process run
    local = judge_many(completions, "2 \\sqrt{3}", "math", use_pool=False)
    assert pooled == local == [True, True, False]


def test_fast_path_skips_the_pool() -> None:
    assert math_fast("\\dfrac{1}{2}", "\\frac12") is True
    assert math_fast("0.5", "\\frac{1}{2}") is True
    assert math_fast("\\frac{3}{4}", "0.7") is False
    assert math_fast("x+1", "1+x") is None  # needs math-verify


def test_configure_rebuilds_pool() -> None:
    mathpool.configure(workers=1)
    try:
        assert mathpool.run([("\\frac12", "0.5"), ("2", "3")]) == [True, False]
    finally:
        mathpool.configure(None)
