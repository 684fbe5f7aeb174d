"""Hostile endpoints on loopback, for the reliability tests and `bench/endpoints.py`.

`InstantServer`: an OpenAI-compatible server (chat and text completions) that answers at once,
`n` choices per request, with texts from `reply(body, index)`; asyncio, HTTP/1.1 keep-alive. Run
it in a thread (`with InstantServer(...) as server:`) or in a process of its own
(`python -m tests.reliability.netfaults serve PORT_FILE`), so that a client measured against it
pays none of its cost.

`FaultProxy`: a proxy in front of any such server (llama.cpp's own `python -m llama_cpp.server`,
or an `InstantServer`) that injects, at seeded random, one fault per request:

    429       HTTP 429 with `Retry-After: 1`          500, 502, 503   those statuses
    reset     the connection reset (RST), no reply     slow            the reply after the
    truncated a reply cut off half-way through             client's timeout
    invalid   HTTP 200 whose body is not JSON          fewer           fewer choices than `n`
    empty     HTTP 200 with `choices: []`              ok              the reply as it is

It counts faults by kind, and for every request the upstream answered in full and the client
received intact, the request's body: a body delivered twice is a request paid twice after it
succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import socket
import struct
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

FAULTS = ("429", "500", "502", "503", "reset", "slow", "truncated", "invalid", "fewer", "empty")
Reply = Callable[[dict[str, Any], int], str]
REASONS = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway"}
REASONS |= {503: "Service Unavailable", 400: "Bad Request"}


def echo(body: dict[str, Any], index: int) -> str:
    """The default reply: a short text naming the sample."""
    return f"reply {body.get('seed', 0)}/{index} #### {index}"


def completion(body: dict[str, Any], chat: bool, reply: Reply) -> dict[str, Any]:
    """An OpenAI completion object answering `body` with `n` choices."""
    texts = [reply(body, i) for i in range(int(body.get("n") or 1))]
    if chat:
        choices: list[dict[str, Any]] = [
            {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop"}
            for i, t in enumerate(texts)
        ]
    else:
        choices = [{"index": i, "text": t, "finish_reason": "stop"} for i, t in enumerate(texts)]
    tokens = sum(len(t.split()) for t in texts)
    return {
        "id": "cmpl",
        "object": "chat.completion" if chat else "text_completion",
        "created": 0,
        "model": str(body.get("model", "m")),
        "choices": choices,
        "usage": {"prompt_tokens": 5, "completion_tokens": tokens, "total_tokens": 5 + tokens},
    }


def response_bytes(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    head = f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
    fields = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    for name, value in {**fields, **(headers or {})}.items():
        head += f"{name}: {value}\r\n"
    return head.encode() + b"\r\n" + body


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes] | None:
    """(request line, headers with lower-case names, body), or None at the end of input."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return lines[0], headers, body


class _LoopThread:
    """An asyncio server in a daemon thread: `start()` returns once it listens."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self.handle, "127.0.0.1", self.port, backlog=1024)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()
        server.close()
        tasks = asyncio.all_tasks(self.loop)
        for task in tasks:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self.loop.close()

    def start(self) -> _LoopThread:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class InstantServer(_LoopThread):
    """Answers every completion request at once (see the module docstring). `requests` counts
    them; `headers` keeps the headers of the last one."""

    def __init__(self, reply: Reply = echo) -> None:
        super().__init__()
        self.reply = reply
        self.requests = 0
        self.headers: dict[str, str] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while (request := await read_request(reader)) is not None:
                line, self.headers, raw = request
                self.requests += 1
                body = json.loads(raw or b"{}")
                answer = completion(body, "/chat/" in line, self.reply)
                writer.write(response_bytes(200, json.dumps(answer).encode()))
                await writer.drain()
                if self.headers.get("connection", "").lower() == "close":
                    break
        writer.close()


class FaultProxy(_LoopThread):
    """The fault-injecting proxy (see the module docstring): `rate` of the requests get a fault,
    drawn uniformly from `faults`; `slow_s` is how long a slow reply waits."""

    def __init__(
        self,
        upstream: str,
        rate: float = 0.5,
        seed: int = 0,
        slow_s: float = 6.0,
        faults: tuple[str, ...] = FAULTS,
    ) -> None:
        super().__init__()
        host, _, port = upstream.split("//", 1)[-1].split("/", 1)[0].partition(":")
        self.upstream = (host, int(port or 80))
        self.rate, self.slow_s, self.faults = rate, slow_s, faults
        self.rng = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self.delivered: Counter[str] = Counter()  # body hash -> complete replies delivered
        self.bodies: dict[str, bytes] = {}  # body hash -> the request body
        self.requests = 0

    def duplicates(self) -> int:
        """Requests whose complete reply was delivered more than once (paid twice)."""
        return sum(n - 1 for n in self.delivered.values() if n > 1)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await read_request(reader)) is not None:
                self.requests += 1
                fault = self.rng.choice(self.faults) if self.rng.random() < self.rate else "ok"
                self.injected[fault] += 1
                if not await self._answer(fault, request, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # cancelled: the proxy stops while a slow reply waits
        finally:
            writer.close()

    async def _answer(
        self, fault: str, request: tuple[str, dict[str, str], bytes], writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request with `fault`; False when the connection is gone."""
        line, headers, raw = request
        if fault in ("429", "500", "502", "503"):
            extra = {"Retry-After": "1"} if fault == "429" else {}
            error = json.dumps({"error": {"message": f"injected {fault}", "type": "injected"}})
            writer.write(response_bytes(int(fault), error.encode(), extra))
        elif fault == "reset":
            _reset(writer)
            return False
        elif fault == "invalid":
            writer.write(response_bytes(200, b'{"id": "cmpl", "choices": [{"index": 0, "mess'))
        elif fault == "empty":
            writer.write(response_bytes(200, json.dumps(_empty(raw)).encode()))
        else:
            status, body = await self._forward(line, headers, raw)
            if fault == "slow":
                await asyncio.sleep(self.slow_s)
            if fault == "truncated":
                writer.write(response_bytes(status, body)[: -max(1, len(body) // 2)])
                await writer.drain()
                _reset(writer)
                return False
            if fault == "fewer":
                body = _fewer(body)
            elif fault == "ok" and status == 200:  # a slow reply finds the client gone
                digest = hashlib.sha256(raw).hexdigest()
                self.delivered[digest] += 1
                self.bodies[digest] = raw
            writer.write(response_bytes(status, body))
        await writer.drain()
        return True

    async def _forward(self, line: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes]:
        """Send the request upstream on a new connection; (status, body) of its reply."""
        reader, writer = await asyncio.open_connection(*self.upstream)
        method, path, _ = line.split(" ", 2)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.upstream[0]}:{self.upstream[1]}\r\n"
        head += "Content-Type: application/json\r\nConnection: close\r\n"
        head += f"Content-Length: {len(raw)}\r\n"
        if "authorization" in headers:
            head += f"Authorization: {headers['authorization']}\r\n"
        writer.write(head.encode() + b"\r\n" + raw)
        await writer.drain()
        reply = await reader.read()
        writer.close()
        top, _, body = reply.partition(b"\r\n\r\n")
        status = int(top.split(b" ", 2)[1])
        if b"chunked" in top.lower():
            body = _unchunk(body)
        return status, body


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (RST), as a crashed server or a middlebox does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _empty(raw: bytes) -> dict[str, Any]:
    body = json.loads(raw or b"{}")
    answer = completion({**body, "n": 1}, "messages" in body, echo)
    answer["choices"] = []
    return answer


def _fewer(body: bytes) -> bytes:
    """The reply with its last choice dropped (none left when it had one)."""
    try:
        data = json.loads(body)
        data["choices"] = data["choices"][:-1]
    except (ValueError, KeyError, TypeError):
        return body
    return json.dumps(data).encode()


def _unchunk(body: bytes) -> bytes:
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


def serve(port_file: str) -> None:
    """Run an `InstantServer` in this process; write its port to `port_file`."""
    server = InstantServer()
    server.start()
    tmp = Path(port_file + ".tmp")
    tmp.write_text(str(server.port))
    tmp.replace(port_file)
    threading.Event().wait()


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    serve(sys.argv[2])
