"""A scripted OpenAI-compatible server on loopback (stdlib `http.server` in a thread) for tests:
`choices(body)` decides the texts of each answer, e.g. none at all, or fewer than asked."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Choices = Callable[[dict[str, Any]], list[str]]


class StubServer:
    """Answers POST .../chat/completions and .../completions with HTTP 200 and `choices(body)`;
    records every request body. Use as a context manager."""

    def __init__(self, choices: Choices) -> None:
        self.choices = choices
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.bodies.append(body)
                    texts = server.choices(body)
                send_completion(self, texts, self.path.endswith("/chat/completions"))

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def send_completion(handler: BaseHTTPRequestHandler, texts: list[str], chat: bool = True) -> None:
    """Answer the request `handler` is serving with HTTP 200 and a completion of `texts`."""
    reply = json.dumps(_completion(texts, chat)).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(reply)))
    handler.end_headers()
    handler.wfile.write(reply)


def _completion(texts: list[str], chat: bool) -> dict[str, Any]:
    if chat:
        choices = [
            {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
            for i, t in enumerate(texts)
        ]
    else:
        choices = [{"index": i, "text": t, "finish_reason": "stop"} for i, t in enumerate(texts)]
    return {
        "id": "x",
        "object": "chat.completion" if chat else "text_completion",
        "created": 0,
        "model": "m",
        "choices": choices,
        "usage": {
            "prompt_tokens": 3,
            "completion_tokens": len(texts),
            "total_tokens": 3 + len(texts),
        },
    }
