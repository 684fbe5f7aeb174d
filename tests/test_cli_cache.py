"""`synthrl cache export|import`: a cache carried to another machine replays every call."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from synthrl.cli import app
from synthrl.errors import SynthRLError
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.fake import FakeBackend


def _echo(request: Request, index: int) -> str:
    return f"{request.prompt}#{index}"


def _generate(cache: Path, backend: FakeBackend) -> list[list[str]]:
    llm = LLM(backend, CallCache(cache), Ledger(), label="fake", show_progress=False)
    requests = [Request(prompt=f"p{i}", n=3, temperature=0.7) for i in range(3)]
    return [r.texts for r in llm.generate(requests, stage="s")]


def test_export_then_import_elsewhere_replays_without_calling(tmp_path: Path) -> None:
    first = _generate(tmp_path / "here.sqlite", FakeBackend(responder=_echo))
    runner = CliRunner()
    out = runner.invoke(
        app,
        ["cache", "export", str(tmp_path / "c.jsonl"), "--cache", str(tmp_path / "here.sqlite")],
    )
    assert out.exit_code == 0, out.output
    assert "9 cached calls" in out.output
    there = tmp_path / "there.sqlite"
    out = runner.invoke(app, ["cache", "import", str(tmp_path / "c.jsonl"), "--cache", str(there)])
    assert out.exit_code == 0, out.output
    assert "9 calls added" in out.output
    backend = FakeBackend(responder=_echo)
    assert _generate(there, backend) == first
    assert backend.calls == []


def test_missing_files_are_clear_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(
        app, ["cache", "export", str(tmp_path / "c.jsonl"), "--cache", str(tmp_path / "no.sqlite")]
    )
    assert isinstance(out.exception, SynthRLError) and out.exception.exit_code == 2
    assert "no call cache at" in str(out.exception)
    assert not (tmp_path / "no.sqlite").exists() and not (tmp_path / "c.jsonl").exists()
    out = runner.invoke(app, ["cache", "import", str(tmp_path / "none.jsonl")])
    assert isinstance(out.exception, SynthRLError) and "does not exist" in str(out.exception)
