"""math-verify behind a process pool with a hard per-check timeout.

math-verify's own timeouts use `signal.alarm`, which only works on the main thread of the main
interpreter (in veRL's Ray workers or a thread pool it silently scores everything 0). Here every
check runs in a worker process, on the worker's main thread, where one alarm per check ends most
slow checks cleanly; the parent also enforces a wall-clock limit per check: a check that runs past
it (stuck in native code) is judged False, its worker is killed and the pool is rebuilt. Checks
in flight when a worker crashes are retried alone, so one pathological expression cannot fail its
neighbours.

The pool is created lazily on first use ('forkserver' on Linux, 'spawn' elsewhere, never 'fork',
which is unsafe in threaded parents) and holds `SYNTHRL_ANSWER_WORKERS` workers (default
min(4, CPUs)). `verify_in_process` runs the same check without a pool.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
_STARTUP_TIMEOUT = 120.0
_lock = threading.RLock()
_pool: ProcessPoolExecutor | None = None
_workers: int | None = None


class _CheckTimeout(BaseException):
    """Raised by the in-check alarm; a BaseException so math-verify's `except Exception` lets
    it through."""


@contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """SIGALRM after `seconds` on the main thread (a no-op elsewhere or when None)."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _CheckTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _parse(answer: str) -> list[Any]:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse

    config = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    found = parse(f"\\boxed{{{answer}}}", config, parsing_timeout=None)  # type: ignore[arg-type]
    return found or parse(f"${answer}$", config, parsing_timeout=None)  # type: ignore[arg-type]


def _check(pred: str, gold: str, seconds: float | None) -> bool:
    """math-verify on two answers (LaTeX or plain), gold first; errors count as not equal.

    One alarm bounds the whole check (0.9 x `seconds`, on the main thread only), so a slow
    check usually ends here and the pool's hard kill at `seconds` is the backstop.
    """
    from math_verify import verify

    try:
        with _deadline(None if seconds is None else 0.9 * seconds):
            gold_parsed, pred_parsed = _parse(gold), _parse(pred)
            if not gold_parsed or not pred_parsed:
                return False
            return bool(verify(gold_parsed, pred_parsed, timeout_seconds=None))
    except (Exception, _CheckTimeout, RecursionError):  # odd input is a "not equal"
        return False


def _worker_init() -> None:
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    _check("\\frac{1}{2}", "0.5", 5)


def _ping() -> int:
    return os.getpid()


def verify_in_process(pred: str, gold: str, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """The same check in this process: bounded by an alarm on the main thread, unbounded
    elsewhere (use the pool there)."""
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    return _check(pred, gold, timeout)


def configure(workers: int | None = None) -> None:
    """Set the pool size (None: `SYNTHRL_ANSWER_WORKERS` or min(4, CPUs)); rebuilds the pool."""
    global _workers
    with _lock:
        _workers = workers
        shutdown()


def _worker_count() -> int:
    if _workers:
        return _workers
    env = os.environ.get("SYNTHRL_ANSWER_WORKERS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, os.cpu_count() or 1))


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        # Workers (and workers rebuilt after a timeout) fork from a server that has sympy loaded.
        context.set_forkserver_preload(["math_verify", "synthrl.answers.mathpool"])
        return context
    return multiprocessing.get_context("spawn")


def get_pool() -> ProcessPoolExecutor:
    """The shared pool, started (and every worker warmed up) on first use."""
    global _pool
    with _lock:
        if _pool is None:
            n = _worker_count()
            pool = ProcessPoolExecutor(n, mp_context=_context(), initializer=_worker_init)
            futures = [pool.submit(_ping) for _ in range(n)]
            done, _ = wait(futures, timeout=_STARTUP_TIMEOUT)
            if len(done) < n or any(f.exception() for f in done):
                _kill(pool)
                raise RuntimeError("the math-verify worker pool failed to start")
            _pool = pool
        return _pool


def _kill(pool: ProcessPoolExecutor) -> None:
    processes = list(getattr(pool, "_processes", {}).values())
    for process in processes:
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)


def shutdown() -> None:
    """Stop the pool's workers now (the next check starts a fresh pool)."""
    global _pool
    with _lock:
        if _pool is not None:
            _kill(_pool)
            _pool = None


atexit.register(shutdown)


def _reset(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _kill(pool)
            _pool = None


Check = Callable[[str, str, float | None], bool]


def run(
    pairs: Sequence[tuple[str, str]], timeout: float = DEFAULT_TIMEOUT, check: Check = _check
) -> list[bool]:
    """Check (pred, gold) pairs in the pool; a check over `timeout` seconds counts as False.

    At most one check per worker is in flight, so each check's clock starts when a worker takes
    it. Checks in flight when a worker dies are retried one at a time; failing alone, False.
    """
    results = [False] * len(pairs)
    queue: deque[int] = deque(range(len(pairs)))
    retry: deque[int] = deque()
    inflight: dict[Future[bool], tuple[int, float, bool]] = {}  # index, start, alone
    with _lock:  # one batch at a time owns the pool
        while queue or retry or inflight:
            pool = get_pool()
            if retry and not inflight:
                i = retry.popleft()
                inflight[pool.submit(check, *pairs[i], timeout)] = (i, time.monotonic(), True)
            alone_inflight = any(alone for _, _, alone in inflight.values())
            while queue and not retry and not alone_inflight and len(inflight) < _worker_count():
                i = queue.popleft()
                inflight[pool.submit(check, *pairs[i], timeout)] = (i, time.monotonic(), False)
            oldest = min(start for _, start, _ in inflight.values())
            left = max(0.0, oldest + timeout - time.monotonic())
            done, _ = wait(inflight, timeout=left, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                i, _, alone = inflight.pop(future)
                try:
                    results[i] = future.result()
                except Exception:  # the worker died (BrokenProcessPool): retry it alone
                    broken = True
                    if not alone:
                        retry.append(i)
            now = time.monotonic()
            overdue = [f for f, (_, start, _) in inflight.items() if now - start >= timeout]
            if overdue or broken:
                for future in overdue:
                    inflight.pop(future)  # stays False
                for i, _, _ in inflight.values():
                    (retry if broken else queue).appendleft(i)
                inflight.clear()
                _reset(pool)
    return results
