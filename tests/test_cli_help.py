"""What a newcomer reads first: `synthrl --version`, and `--help` of the commands that take
`--from` / `--to`, which must name the stages those options accept (the pipeline's own names)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from synthrl import __version__
from synthrl.cli import app
from synthrl.stages import STAGES


def plain(text: str) -> str:
    """Help text without colours and box drawing, on one line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.mark.parametrize("command", ["run", "resume", "plan"])
def test_help_names_the_stages_of_from_and_to(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    text = plain(result.output)
    names = ", ".join(stage.name for stage in STAGES)
    assert text.count(f"(one of: {names})") == 2, text  # --from and --to


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"synthrl {__version__}"


def test_plan_prints_the_forecast_and_writes_nothing(tmp_path, monkeypatch) -> None:
    from synthrl import forecast
    from tests.conftest import EXAMPLES

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(forecast, "gpu", lambda: False)
    monkeypatch.setattr(forecast.os, "cpu_count", lambda: 2)
    env = {"COLUMNS": "240"}
    task = str(EXAMPLES / "gsm8k.yaml")
    paper = CliRunner().invoke(app, ["plan", task, "--preset", "paper"], env=env)
    assert paper.exit_code == 0, paper.output
    text = plain(paper.output)
    assert "forecast (estimates)" in text and "far beyond this machine" in text
    assert "votes (k = 16)" in text and "These are estimates" in text
    cpu = CliRunner().invoke(app, ["plan", task, "--preset", "cpu"], env=env)
    assert cpu.exit_code == 0 and "within reach of this machine" in plain(cpu.output)
    assert list(tmp_path.iterdir()) == []  # no run directory
