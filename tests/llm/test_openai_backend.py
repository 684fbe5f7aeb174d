"""The `openai` backend against a real OpenAI-compatible server on loopback (llama-cpp-python's
own server with the embedded base model), including a server stopped mid-run; and its retry
path against a loopback server that answers 503 before it answers."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.local_server import LlamaServer
from synthrl.llm.openai_backend import OpenAIBackend
from tests.llm.loopback import send_completion

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(base_gguf: Path):
    srv = LlamaServer(base_gguf).start()
    yield srv
    srv.stop()


def backend_for(url: str, **kwargs) -> OpenAIBackend:
    return OpenAIBackend("base", url, "EMPTY", **kwargs)


def test_chat_n_samples_and_usage(server: LlamaServer, tmp_path: Path) -> None:
    llm = LLM(
        backend_for(server.url, concurrency=2),
        CallCache(tmp_path / "c.sqlite"),
        Ledger(),
        "base",
        False,
    )
    messages = [{"role": "user", "content": "Name a color. Answer with one word."}]
    requests = [
        Request.chat(messages, n=3, temperature=0.9, max_tokens=8),
        Request(prompt="The capital of France is", max_tokens=4),
    ]
    chat, raw = llm.generate(requests, stage="t")
    assert len(chat.samples) == 3 and all(s.text.strip() for s in chat.samples)
    assert chat.prompt_tokens > 5 and chat.completion_tokens > 0
    assert raw.samples[0].text.strip()
    usage = llm.ledger.by_stage("t")
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0 and usage.cost_usd == 0


def test_server_stopped_mid_run_bounded_retries_nothing_lost(
    base_gguf: Path, tmp_path: Path
) -> None:
    srv = LlamaServer(base_gguf).start()
    cache = CallCache(tmp_path / "c.sqlite")
    requests = [Request(prompt=f"Count to {i}:", max_tokens=12) for i in range(8)]
    backend = backend_for(srv.url, concurrency=1, max_retries=2, backoff_s=0.05, timeout_s=20)
    llm = LLM(backend, cache, Ledger(), "base", False)

    def kill_after_two() -> None:
        while len(cache) < 2:
            time.sleep(0.05)
        srv.stop()

    killer = threading.Thread(target=kill_after_two)
    killer.start()
    started = time.time()
    with pytest.raises(SynthRLError, match="unreachable after 3 tries"):
        llm.generate(requests, stage="t")
    killer.join()
    assert time.time() - started < 120
    done = len(cache)
    assert 2 <= done < 8
    # Restart on the same port: completed requests are cache hits, the rest are generated.
    srv.start()
    try:
        results = LLM(backend, cache, Ledger(), "base", False).generate(requests, stage="t")
    finally:
        srv.stop()
    assert all(r.texts[0] is not None for r in results) and len(results) == 8
    assert sum(s.cached for r in results for s in r.samples) == done
    assert len(cache) == 8


class _Flaky(BaseHTTPRequestHandler):
    failures = 2
    seen = 0

    def do_POST(self) -> None:
        type(self).seen += 1
        self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).seen <= type(self).failures:
            self.send_response(503)
            self.end_headers()
            return
        send_completion(self, ["ok"])

    def log_message(self, *args: object) -> None:
        pass


def test_retries_5xx_then_succeeds() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        llm = LLM(backend_for(url, max_retries=3, backoff_s=0.01), None, Ledger(), "m", False)
        result = llm.generate([Request.chat([{"role": "user", "content": "hi"}])], stage="t")[0]
        assert result.texts == ["ok"] and _Flaky.seen == 3
        _Flaky.seen, _Flaky.failures = 0, 10
        with pytest.raises(SynthRLError, match=r"HTTP|unreachable"):
            LLM(
                backend_for(url, max_retries=1, backoff_s=0.01), None, Ledger(), "m", False
            ).generate([Request.chat([{"role": "user", "content": "hi"}])], stage="t")
        assert _Flaky.seen == 2
    finally:
        httpd.shutdown()


def test_api_key_never_in_repr() -> None:
    backend = OpenAIBackend("gpt-4o", None, "sk-secret-123")
    assert "sk-secret" not in repr(backend) and "sk-secret" not in str(
        vars(backend).get("base_url")
    )
