"""What the `openai` backend sends: reasoning models get `max_completion_tokens` and no
sampling settings or stops; other models the usual fields. Retries are the openai client's own,
which honour `Retry-After`; a 429 that outlasts them ends in a clear error."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import LLM, Ledger, Request
from synthrl.llm.openai_backend import OpenAIBackend, is_reasoning_model
from tests.llm.loopback import StubServer, send_completion

CHAT = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("name", "reasoning"),
    [
        ("o1", True),
        ("o3-mini", True),
        ("o4-mini-2025-04-16", True),
        ("openai/o3", True),
        ("gpt-5", True),
        ("gpt-5-mini", True),
        ("gpt-4o", False),
        ("gpt-4.1-mini", False),
        ("Qwen/Qwen2.5-7B-Instruct", False),
        ("olmo-2", False),
    ],
)
def test_reasoning_model_names(name: str, reasoning: bool) -> None:
    assert is_reasoning_model(name) is reasoning


def test_request_shape_reasoning_vs_chat_models() -> None:
    request = Request.chat(CHAT, n=2, temperature=0.7, max_tokens=64, stop=("###",))
    with StubServer(lambda body: ["ok"] * body.get("n", 1)) as server:
        for model in ("o3-mini", "gpt-4o"):
            backend = OpenAIBackend(model, server.url, "EMPTY", max_retries=0)
            LLM(backend, None, Ledger(), model, False).generate([request], stage="t")
    reasoning, chat = server.bodies
    assert reasoning["max_completion_tokens"] == 64 and reasoning["n"] == 2
    for absent in ("max_tokens", "temperature", "top_p", "stop"):
        assert absent not in reasoning
    assert chat["max_tokens"] == 64 and chat["temperature"] == 0.7 and chat["stop"] == ["###"]
    assert "max_completion_tokens" not in chat
    settings = OpenAIBackend("o3-mini", None, "k").sampler_settings(request)
    assert settings["temperature"] == "model default"


class _RateLimited(BaseHTTPRequestHandler):
    """429 with Retry-After for the first `limited` requests, then an answer."""

    limited = 1
    seen: ClassVar[list[float]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append(time.monotonic())
        if len(type(self).seen) <= type(self).limited:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        send_completion(self, ["ok"])

    def log_message(self, *args: object) -> None:
        pass


def test_client_retries_honour_retry_after_then_give_a_clear_error() -> None:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _RateLimited)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    try:
        _RateLimited.seen, _RateLimited.limited = [], 1
        llm = LLM(OpenAIBackend("m", url, "EMPTY", max_retries=2), None, Ledger(), "m", False)
        assert llm.generate([Request.chat(CHAT)], stage="t")[0].texts == ["ok"]
        first, second = _RateLimited.seen
        assert second - first >= 0.9  # waited as Retry-After said
        _RateLimited.seen, _RateLimited.limited = [], 10
        llm = LLM(OpenAIBackend("m", url, "EMPTY", max_retries=1), None, Ledger(), "m", False)
        with pytest.raises(SynthRLError, match=r"HTTP 429 .* after 2 tries"):
            llm.generate([Request.chat(CHAT)], stage="t")
        assert len(_RateLimited.seen) == 2
    finally:
        httpd.shutdown()
