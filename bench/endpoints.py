"""Hostile endpoints, measured: the `openai` backend through a fault-injecting proxy in front of
llama.cpp's own OpenAI server, then resumed straight against the server; and the client's own
overhead against a loopback server that answers at once.

    .venv/bin/python bench/endpoints.py --quick   # an instant loopback server behind the proxy
    flock /work/notes/model.lock nice -n 10 .venv/bin/python bench/endpoints.py   # llama.cpp

Hostile part: `python -m llama_cpp.server` serves the embedded base GGUF
(`synthrl.models.prepare_gguf("base")`; its server ignores `n`, so every request for 2 samples is
topped up by the client, as with servers that cap `n`). `FaultProxy` (tests/reliability/
netfaults.py) injects, at seeded random, 429 with Retry-After, 500/502/503, resets, replies
slower than the client's timeout, truncated bodies, invalid JSON, fewer choices than `n` and empty
choices. The requests (a few tokens each) go in batches through `synthrl.llm.LLM` with a call
cache. Each batch either completes or fails with a SynthRLError, within a bound (a watchdog ends
the bench on a hang). Then the same requests go straight to the server with the same cache:
every request completes, and none that the proxy delivered intact is asked again (repaid).

Overhead part: 10,000 requests at concurrency 64 (--quick: 2,000) from `OpenAIBackend` to an
`InstantServer` in a process of its own; the client runs in a child process, which reports its
wall time, CPU time and peak resident memory (and its resident memory before the requests).

Ends with `BENCH endpoints requests=N completed=N failed=N unclear=N hung=0 repaid=N
resumed=N client_req_s=X client_peak_mb=Y target=500 PASS|MISS` (target: the requests
sent; --quick 200).
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.netfaults import FAULTS, FaultProxy, InstantServer  # noqa: E402

from synthrl.errors import SynthRLError  # noqa: E402
from synthrl.llm import LLM, CallCache, Ledger, Request  # noqa: E402
from synthrl.llm.openai_backend import OpenAIBackend  # noqa: E402

ERROR_KINDS = {  # a phrase of each clear error the backend gives -> its kind
    "HTTP 429": "rate limited",
    "unreachable": "unreachable",
    "not completions": "malformed replies",
    "without any choice": "no choices",
    "rejected the request": "rejected",
}


@dataclass
class Hostile:
    """What the proxied batches did."""

    requests: int = 0
    completed: int = 0
    failed: int = 0
    unclear: list[str] = field(default_factory=list)  # errors that are not a SynthRLError
    errors: Counter[str] = field(default_factory=Counter)
    longest_batch_s: float = 0.0
    bound_s: float = 0.0
    seconds: float = 0.0


def ask(count: int, max_tokens: int) -> list[Request]:
    """`count` short chat requests, every third for 2 samples."""
    return [
        Request.chat(
            [{"role": "user", "content": f"Reply with one word. Request {i}."}],
            n=2 if i % 3 == 0 else 1,
            max_tokens=max_tokens,
            temperature=0.8,
            seed=i,
        )
        for i in range(count)
    ]


def batch_bound_s(size: int, timeout_s: float, retries: int, concurrency: int) -> float:
    """The longest a batch may take: every retry loop of every request at its longest (the
    client's backoff is capped at 8 s; 429 waits its Retry-After of 1 s), spread over the
    concurrency, for each of the malformed-reply and empty-choice retries."""
    per_call = (retries + 1) * (timeout_s + 8.0)
    per_request = (2 * retries + 3) * per_call
    return per_request * (size // concurrency + 1) + 60


def run_hostile(
    llm: LLM, batch: list[Request], size: int, bound_s: float, result: Hostile
) -> Hostile:
    """The batches through the proxy; a watchdog ends the process if one hangs."""
    started = time.monotonic()
    for start in range(0, len(batch), size):
        part = batch[start : start + size]
        began = time.monotonic()
        faulthandler.dump_traceback_later(bound_s, exit=True)
        try:
            llm.generate(part, stage="hostile")
            result.completed += len(part)
        except SynthRLError as err:
            failed = _failed_count(str(err), len(part))
            result.failed += failed
            result.completed += len(part) - failed
            kind = next((k for p, k in ERROR_KINDS.items() if p in str(err)), "other")
            result.errors[kind] += failed
        except Exception as err:  # the finding: an error that is not a clear one
            result.unclear.append(f"{type(err).__name__}: {err}")
        finally:
            faulthandler.cancel_dump_traceback_later()
        result.longest_batch_s = max(result.longest_batch_s, time.monotonic() - began)
        print(
            f"  batch {start // size + 1}: {result.completed} completed, {result.failed} failed"
            f" so far ({time.monotonic() - started:.0f} s)",
            flush=True,
        )
    result.requests = len(batch)
    result.seconds = time.monotonic() - started
    return result


def _failed_count(message: str, size: int) -> int:
    """`k` from "k of N requests failed; first: ...", else the whole batch."""
    head = message.split(" of ", 1)[0]
    return int(head) if head.isdigit() else size


def resume(
    url: str, model: str, cache: CallCache, batch: list[Request], proxy: FaultProxy
) -> tuple[int, int, int]:
    """The same requests straight to the server: (requests complete, samples asked again,
    of which the proxy had delivered intact: repaid)."""
    delivered = {_call_key(json.loads(raw)) for raw in proxy.bodies.values()}
    asked: list[tuple[Any, ...]] = []
    backend = OpenAIBackend(model, url, "sk-bench", concurrency=4, max_retries=2, timeout_s=120)
    backend.model = f"{proxy.url.rstrip('/')}#{model}"  # the cache keys name the endpoint
    request_args = backend.request_args

    def logged(request: Request, first: int, n: int) -> dict[str, Any]:
        kwargs = request_args(request, first, n)
        asked.append(_call_key({**kwargs, "messages": request.message_dicts()}))
        return kwargs

    backend.request_args = logged  # type: ignore[method-assign]
    llm = LLM(backend, cache, Ledger(), "resume", show_progress=False)
    results = llm.generate(batch, stage="resume")
    complete = sum(len(r.samples) == q.n for r, q in zip(results, batch, strict=True))
    fresh = sum(not s.cached for r in results for s in r.samples)
    return complete, fresh, sum(key in delivered for key in asked)


def _call_key(body: dict[str, Any]) -> tuple[Any, ...]:
    return (body.get("seed"), body.get("n") or 1, json.dumps(body.get("messages")))


@contextmanager
def llama_server(gguf: Path, threads: int) -> Iterator[str]:
    """`python -m llama_cpp.server` on a free loopback port; its base URL once it answers."""
    port = _free_port()
    log = Path(tempfile.mkstemp(prefix="llama-server-", suffix=".log")[1])
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "512"]
    command += ["--n_threads", str(threads), "--verbose", "False"]
    with log.open("w") as sink:
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"llama_cpp.server did not start; see {log}") from None
                time.sleep(1)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)
        log.unlink(missing_ok=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_overhead(count: int, concurrency: int) -> dict[str, float]:
    """The backend alone against an instant server in another process (run in a child)."""
    with tempfile.TemporaryDirectory() as folder:
        port_file = Path(folder) / "port"
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.netfaults", "serve", str(port_file)],
            cwd=ROOT,
        )
        try:
            while not port_file.exists():
                time.sleep(0.1)
            url = f"http://127.0.0.1:{port_file.read_text()}/v1"
            done = subprocess.run(
                [sys.executable, __file__, "--client", url, str(count), str(concurrency)],
                capture_output=True,
                text=True,
                timeout=3600,
            )
        finally:
            server.kill()
            server.wait()
    if done.returncode != 0:
        raise SystemExit(f"the client run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_client(url: str, count: int, concurrency: int) -> None:
    """In the child: send `count` requests; print wall, CPU and memory figures as JSON."""
    backend = OpenAIBackend("m", url, "sk-bench", concurrency=concurrency, max_retries=0)
    batch = [
        Request.chat([{"role": "user", "content": f"question {i}"}], seed=i) for i in range(count)
    ]
    received = [0]

    def on_result(i: int, result: Any) -> None:
        received[0] += len(result.samples)

    before_mb = _rss_mb()
    cpu = time.process_time()
    started = time.perf_counter()
    backend.generate(batch, on_result)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert received[0] == count, received
    figures = {"requests": count, "concurrency": concurrency, "wall_s": wall, "cpu_s": cpu}
    figures |= {"req_s": count / wall, "cpu_ms_per_request": 1000 * cpu / count}
    figures |= {"rss_before_mb": before_mb, "peak_mb": peak_mb}
    print(json.dumps(figures))


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--quick", action="store_true", help="an instant server, not llama.cpp")
    parser.add_argument("--requests", type=int, help="proxied requests (default 500; quick 200)")
    parser.add_argument("--rate", type=float, default=0.5, help="share of requests faulted")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=30.0, help="the client's timeout (s)")
    parser.add_argument("--retries", type=int, default=2, help="llm.max_retries")
    parser.add_argument("--concurrency", type=int, default=8, help="proxied requests at once")
    parser.add_argument("--max-tokens", type=int, default=4)
    parser.add_argument("--batch", type=int, default=50, help="requests per LLM.generate call")
    parser.add_argument("--overhead", type=int, help="overhead requests (default 10,000; 2,000)")
    parser.add_argument("--overhead-concurrency", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads")
    parser.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        measure_client(args.client[0], int(args.client[1]), int(args.client[2]))
        return
    count = args.requests or (200 if args.quick else 500)
    if args.quick:
        args.timeout = min(args.timeout, 3.0)
    with tempfile.TemporaryDirectory(prefix="endpoints-") as folder:
        cache = CallCache(Path(folder) / "calls.sqlite")
        with upstream(args.quick, args.threads) as url:
            hostile, proxy, model = proxied(url, cache, count, args)
            complete, fresh, repaid = resume(url, model, cache, ask(count, args.max_tokens), proxy)
        cache.close()
    repaid += proxy.duplicates()
    overhead = client_overhead(
        args.overhead or (2000 if args.quick else 10000), args.overhead_concurrency
    )
    report(hostile, proxy, complete, fresh, repaid, overhead, args)


@contextmanager
def upstream(quick: bool, threads: int) -> Iterator[str]:
    if quick:
        with InstantServer() as server:
            yield server.url
        return
    from synthrl.models import prepare_gguf

    with llama_server(prepare_gguf("base"), threads) as url:
        yield url


def proxied(
    url: str, cache: CallCache, count: int, args: argparse.Namespace
) -> tuple[Hostile, FaultProxy, str]:
    model = "base"
    slow_s = args.timeout + 1
    with FaultProxy(url, args.rate, args.seed, slow_s) as proxy:
        backend = OpenAIBackend(
            model, proxy.url, "sk-bench", concurrency=args.concurrency,
            max_retries=args.retries, timeout_s=args.timeout, backoff_s=0.2,
        )  # fmt: skip
        llm = LLM(backend, cache, Ledger(), "hostile", show_progress=False)
        bound = batch_bound_s(args.batch, args.timeout, args.retries, args.concurrency)
        hostile = run_hostile(llm, ask(count, args.max_tokens), args.batch, bound, Hostile())
        hostile.bound_s = bound
    return hostile, proxy, model


def report(
    hostile: Hostile,
    proxy: FaultProxy,
    complete: int,
    fresh: int,
    repaid: int,
    overhead: dict[str, float],
    args: argparse.Namespace,
) -> None:
    injected = ", ".join(f"{k} {proxy.injected[k]}" for k in (*FAULTS, "ok") if proxy.injected[k])
    print(f"upstream: {'instant loopback server' if args.quick else 'llama_cpp.server (base)'}")
    print(
        f"proxied: {hostile.requests} requests ({proxy.requests} HTTP calls through the proxy) "
        f"in {hostile.seconds:.0f} s; timeout {args.timeout:g} s, retries {args.retries}"
    )
    print(f"injected: {injected}")
    print(
        f"outcomes: {hostile.completed} completed, {hostile.failed} failed with a clear error "
        f"({', '.join(f'{k} {n}' for k, n in hostile.errors.items()) or 'none'}), "
        f"{len(hostile.unclear)} unclear"
    )
    print(f"longest batch: {hostile.longest_batch_s:.0f} s (bound {hostile.bound_s:.0f} s)")
    print(
        f"resumed without the proxy: {complete}/{hostile.requests} complete, {fresh} samples "
        f"asked again (never delivered intact), repaid {repaid}"
    )
    print(
        f"client overhead: {overhead['requests']:,.0f} requests at concurrency "
        f"{overhead['concurrency']:.0f}: {overhead['req_s']:,.0f} req/s, "
        f"{overhead['cpu_ms_per_request']:.2f} ms CPU per request, peak RSS "
        f"{overhead['peak_mb']:.0f} MB ({overhead['rss_before_mb']:.0f} MB before the requests)"
    )
    for error in hostile.unclear[:10]:
        print(f"  unclear: {error}")
    target = 200 if args.quick else 500
    passed = (
        hostile.requests >= target
        and not hostile.unclear
        and repaid == 0
        and complete == hostile.requests
        and hostile.longest_batch_s < hostile.bound_s
    )
    print(
        f"BENCH endpoints requests={hostile.requests} completed={hostile.completed} "
        f"failed={hostile.failed} unclear={len(hostile.unclear)} hung=0 repaid={repaid} "
        f"resumed={complete} client_req_s={overhead['req_s']:.0f} "
        f"client_peak_mb={overhead['peak_mb']:.0f} target={target} {'PASS' if passed else 'MISS'}"
    )


if __name__ == "__main__":
    main()
