"""Secrets: with `SYNTHRL_API_KEY` and `OPENAI_API_KEY` set to random markers, a whole run whose
instructor stages go to an OpenAI-compatible server on loopback, then `synthrl status` and
`synthrl report`, leave neither marker in any file under the run directory, the call cache (its
WAL included), SYNTHRL_HOME, the report, or the captured stdout/stderr; nor do the errors of a
server that echoes the request's headers back in its error bodies."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from synthrl.errors import SynthRLError
from synthrl.llm import LLM, Ledger, Request
from synthrl.llm.openai_backend import OpenAIBackend
from tests.conftest import REPO
from tests.reliability import world
from tests.reliability.netfaults import InstantServer, read_request, response_bytes


def markers() -> dict[str, str]:
    return {name: f"sk-{secrets.token_hex(12)}" for name in ("SYNTHRL_API_KEY", "OPENAI_API_KEY")}


def synthrl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`synthrl ARGS` in the fake world, in a process of its own (stdout and stderr kept)."""
    return subprocess.run(
        [sys.executable, "-m", "tests.reliability.world", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def leaks(keys: dict[str, str], places: list[Path], texts: dict[str, str]) -> list[str]:
    """Where a marker occurs: files (bytes, under each place) and captured texts."""
    found = []
    for place in places:
        files = [place] if place.is_file() else [p for p in place.rglob("*") if p.is_file()]
        for path in files:
            data = path.read_bytes()
            found += [f"{path}: {n}" for n, key in keys.items() if key.encode() in data]
    for name, text in texts.items():
        found += [f"{name}: {n}" for n, key in keys.items() if key in text]
    return found


def in_process(*args: str) -> tuple[int, str]:
    """`synthrl ARGS` in this process: (exit code, everything it printed)."""
    from synthrl import cli

    printed = io.StringIO()
    argv, sys.argv = sys.argv, ["synthrl", *args]
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            cli.main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    finally:
        sys.argv = argv
    return code, printed.getvalue()


def test_no_key_in_any_file_or_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = markers()
    for name, value in {**keys, "SYNTHRL_HOME": str(tmp_path / "home"), "COLUMNS": "200"}.items():
        monkeypatch.setenv(name, value)
    task = world.write_task(tmp_path / "task")
    out, cache = tmp_path / "run", tmp_path / "calls.sqlite"
    with InstantServer(world.served) as server:
        args = world.command(task, out, cache)
        args[args.index("fake:instructor")] = f"openai:{server.url}#instructor"
        done = synthrl(dict(os.environ), *args)
        sent = server.headers.get("authorization")  # the key did go to the server
    assert done.returncode == 0, done.stdout + done.stderr
    assert sent == f"Bearer {keys['SYNTHRL_API_KEY']}"
    usage = json.loads((out / "usage.json").read_text())
    assert any("127.0.0.1" in row["model"] and row["requests"] for row in usage), usage
    texts = {"run stdout": done.stdout, "run stderr": done.stderr}
    for command in ("status", "report"):
        code, texts[command] = in_process(command, str(out))
        assert code == 0, texts[command]
    assert (out / "report").is_dir()
    places = [out, tmp_path / "home", *tmp_path.glob("calls.sqlite*")]
    assert leaks(keys, places, texts) == []


class EchoingServer(InstantServer):
    """A server that refuses every request and quotes its headers in the error body (as some
    proxies and debugging servers do), with status `status`."""

    def __init__(self, status: int) -> None:
        super().__init__()
        self.status = status

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while (request := await read_request(reader)) is not None:
                _, headers, raw = request
                self.requests += 1
                # the key first: error messages quote the start of a body
                quoted = {"api_key": self._key(headers), "headers": headers, "body": raw.decode()}
                error = {"error": {"message": f"refused: {json.dumps(quoted)}", "type": "x"}}
                writer.write(response_bytes(self.status, json.dumps(error).encode()))
                await writer.drain()
        writer.close()

    @staticmethod
    def _key(headers: dict[str, str]) -> str:
        return headers.get("authorization", "").removeprefix("Bearer ")


@pytest.mark.parametrize("status", [400, 401, 422, 500])
def test_errors_never_quote_the_key(status: int) -> None:
    key = f"sk-{secrets.token_hex(12)}"
    with EchoingServer(status) as server:
        backend = OpenAIBackend("m", server.url, key, max_retries=1, backoff_s=0.01)
        llm = LLM(backend, None, Ledger(), "x", show_progress=False)
        with pytest.raises(SynthRLError) as caught:
            llm.generate([Request.chat([{"role": "user", "content": "hi"}])], stage="s")
        assert server.requests >= 1
    message = str(caught.value)
    assert key not in message and key not in repr(backend), message
    if status != 401:  # the server's error is quoted, with the key redacted
        assert "refused:" in message and "api_key" in message, message
