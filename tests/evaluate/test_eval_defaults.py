"""`synthrl eval` takes its defaults from the one source, the config model (by preset), and the
options given on the command line override them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from synthrl import run as run_module
from synthrl.cli import app
from synthrl.config import resolve_config
from synthrl.llm import LLM, Ledger
from synthrl.llm.fake import FakeBackend


def _capture(monkeypatch) -> FakeBackend:
    backend = FakeBackend(responder=lambda request, index: "#### 18")
    monkeypatch.setattr(
        run_module,
        "open_llm",
        lambda spec, cfg, cache, ledger: LLM(backend, None, Ledger(), spec, False),
    )
    return backend


def test_eval_uses_the_presets_settings(monkeypatch, benchmarks: Path, tmp_path: Path) -> None:
    monkeypatch.setenv("SYNTHRL_HOME", str(tmp_path))
    backend = _capture(monkeypatch)
    result = CliRunner().invoke(app, ["eval", "hf:x", "--bench", "gsm8k", "--limit", "2"])
    assert result.exit_code == 0, result.output
    paper = resolve_config("paper").evaluate
    temps = {r.temperature for r in backend.calls}
    assert temps == {paper.temperature} and {r.max_tokens for r in backend.calls} == {2048}
    assert {r.seed for r in backend.calls} == set(paper.seeds)  # 3 sampled runs

    backend.calls.clear()
    result = CliRunner().invoke(
        app, ["eval", "hf:x", "--bench", "gsm8k", "--limit", "2", "--preset", "cpu"]
    )
    assert result.exit_code == 0, result.output
    cpu = resolve_config("cpu").evaluate
    assert {r.temperature for r in backend.calls} == {0.0}
    assert {r.max_tokens for r in backend.calls} == {cpu.max_tokens}
    assert len(backend.calls) == 2  # greedy: one run, and the preset's limit is not applied

    backend.calls.clear()
    args = ["eval", "hf:x", "--bench", "gsm8k", "--limit", "1", "--max-tokens", "64"]
    result = CliRunner().invoke(app, [*args, "--temperature", "0", "--seeds", "5"])
    assert result.exit_code == 0, result.output
    assert [(r.max_tokens, r.temperature) for r in backend.calls] == [(64, 0.0)]
