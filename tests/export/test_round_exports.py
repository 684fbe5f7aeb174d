"""`synthrl export verl|dataset|gguf` and `synthrl train` on a run with rounds (synthrl.rounds),
built once on the scripted fakes of tests/test_rounds.py: they act on the last round's folders
(its selection, from its base) unless `--round N` picks another, say which round they used, and
an earlier round's export never overwrites the last one's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from synthrl.artifacts import RunDir
from synthrl.cli import app
from synthrl.errors import SynthRLError
from synthrl.export.dataset import export_dataset
from synthrl.export.verl import export_verl
from tests.test_rounds import World


@pytest.fixture(scope="module")
def two_rounds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A finished two-round run (RUN/round-2/... beside round 1's folders)."""
    root = tmp_path_factory.mktemp("rounds")
    with pytest.MonkeyPatch.context() as mp:
        World(root, mp).run(rounds=2)
    yield root / "run"


def ids(run: Path, stage: str) -> list[str]:
    return [row["id"] for row in RunDir(run).rows(stage, "selected.jsonl")]


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "240"})


def test_the_two_rounds_selected_different_samples(two_rounds: Path) -> None:
    """The premise of the tests below: an export of round 1 would show in the results."""
    assert set(ids(two_rounds, "round-2/select")) != set(ids(two_rounds, "select"))


def test_dataset_export_is_the_last_rounds_by_default(two_rounds: Path) -> None:
    import datasets

    written = export_dataset(two_rounds)
    folder = written["card"].parent
    assert folder == two_rounds / "export" / "dataset"
    selected = datasets.load_dataset(str(folder), split="train")
    assert sorted(selected["id"]) == sorted(ids(two_rounds, "round-2/select"))
    run = RunDir(two_rounds)
    probed = datasets.load_dataset(str(folder), "probed", split="train")
    assert len(probed) == len(run.rows("round-2/probe", "samples.jsonl"))
    verified = datasets.load_dataset(str(folder), "verified", split="train")
    assert len(verified) == len(run.rows("verify", "samples.jsonl"))  # round 1's pool
    card = written["card"].read_text()
    assert "## Round" in card and "Round 2 of 2" in card and "round 1's trained model" in card
    assert (
        "| select | "
        + ", ".join(f"{k} {v}" for k, v in run.manifest("round-2/select")["counts"].items())
        in card
    )


def test_an_earlier_round_is_exported_beside_the_last(two_rounds: Path) -> None:
    written = export_dataset(two_rounds, r=1)
    assert written["selected"].is_relative_to(two_rounds / "export" / "round-1" / "dataset")
    rows = pq.read_table(written["selected"]).to_pylist()
    assert sorted(row["id"] for row in rows) == sorted(ids(two_rounds, "select"))
    assert "Round 1 of 2" in written["card"].read_text()
    with pytest.raises(SynthRLError, match="round 3: this run has 2 round"):
        export_dataset(two_rounds, r=3)


def test_verl_export_trains_the_last_round_from_its_base(two_rounds: Path) -> None:
    files = export_verl(two_rounds)
    assert files["parquet"].parent == two_rounds / "export" / "verl"
    rows = pq.read_table(files["parquet"]).to_pylist()
    assert len(rows) == len(ids(two_rounds, "round-2/select"))
    overrides = (files["parquet"].parent / "overrides.txt").read_text()
    round_1_model = (two_rounds / "train" / "model").resolve()
    assert f"actor_rollout_ref.model.path={round_1_model}\n" in overrides
    first = export_verl(two_rounds, r=1)
    assert first["parquet"].parent == two_rounds / "export" / "round-1" / "verl"
    assert len(pq.read_table(first["parquet"])) == len(ids(two_rounds, "select"))
    assert (
        "actor_rollout_ref.model.path=fake-base\n"
        in (first["parquet"].parent / "overrides.txt").read_text()
    )


def test_export_commands_say_which_round(two_rounds: Path, tmp_path: Path) -> None:
    result = cli("export", "verl", str(two_rounds), "--out", str(tmp_path / "v"))
    assert result.exit_code == 0, result.output
    assert "export verl: round 2 of 2 (round-2/)" in result.output
    result = cli("export", "dataset", str(two_rounds), "--round", "1", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "export dataset: round 1 of 2 (the run's own folders)" in result.output
    result = cli("export", "verl", str(two_rounds), "--round", "3")
    assert isinstance(result.exception, SynthRLError), result.output
    assert "give a round from 1 to 2" in str(result.exception)


def test_gguf_export_refuses_a_round_that_has_not_trained(tmp_path: Path) -> None:
    """A run stopped after round 2's select: the message names round 2's train stage."""
    with pytest.MonkeyPatch.context() as mp:
        World(tmp_path, mp).run(rounds=2, stop="round-2/select")
    from synthrl.export.model import export_gguf

    with pytest.raises(SynthRLError, match="the round-2/train stage has not finished"):
        export_gguf(tmp_path / "run")


@pytest.mark.parametrize(("args", "stop"), [((), "round-2/train"), (("--round", "1"), "train")])
def test_train_command_trains_the_last_round(
    two_rounds: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], stop: str
) -> None:
    """`synthrl train RUN` resumes the run up to the chosen round's train stage (what
    run_rounds does then: tests/test_rounds.py)."""
    seen = []
    monkeypatch.setattr("synthrl.run.run_task", lambda options, console: seen.append(options))
    result = cli("train", str(two_rounds), *args)
    assert result.exit_code == 0, result.output
    assert [(o.start, o.stop, o.out) for o in seen] == [(None, stop, two_rounds)]
    r = "2" if stop.startswith("round-2") else "1"
    assert f"train: round {r} of 2" in result.output


def test_train_on_verl_launches_the_last_rounds_export(
    two_rounds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    launched = []
    monkeypatch.setattr("synthrl.train.verl.launch", lambda script: launched.append(script) or 0)
    result = cli("train", str(two_rounds), "--engine", "verl")
    assert result.exit_code == 0, result.output
    assert "train: round 2 of 2 (round-2/)" in result.output
    assert launched == [two_rounds / "export" / "verl" / "run_grpo.sh"]
    parquet = pq.read_table(two_rounds / "export" / "verl" / "train.parquet")
    assert len(parquet) == len(ids(two_rounds, "round-2/select"))
