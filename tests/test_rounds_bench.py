"""bench/rounds.py: the variants' settings (the quick runs keep each variant's own setting), the
groups without signal read from a run's metrics (over all rounds and after the first pass), and
the BENCH verdicts on a hand-made comparison."""

from __future__ import annotations

import importlib.util
import json
import sys
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import pytest

from synthrl.config import parse_overrides

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_rounds", REPO / "bench" / "rounds.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_rounds"] = module
    spec.loader.exec_module(module)
    return module


def _settings(args: list[str]) -> dict:
    return parse_overrides([v for a, v in pairwise(args) if a == "--set"])


def test_quick_runs_keep_each_variants_setting(bench: ModuleType) -> None:
    assert bench.arguments("r2", False)[:2] == ["--rounds", "2"]
    assert _settings(bench.arguments("skip12", False))["train"]["max_steps"] == 12
    skip = _settings(bench.arguments("skip12", True))
    assert skip["train"] == {"max_steps": 8, "settle_window": 1, "skip_settled": True}
    assert skip["generate"]["n"] == 6 and skip["evaluate"]["limit"] == 20
    assert _settings(bench.arguments("noskip12", True))["train"]["max_steps"] == 8
    assert _settings(bench.arguments("r1", True))["train"]["max_steps"] == 2
    assert _settings(bench.arguments("noadapt", True))["adapt"] == {"enabled": False}


def _train(folder: Path, rows: int, shares: list[float], skipped: int = 0) -> None:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"counts": {"rows": rows}}))
    metrics = [
        {"step": i, "zero_signal_share": s, "frac_reward_zero_std": s, "reward": 0.5}
        | ({"skipped_prompts": skipped} if i > rows else {})
        for i, s in enumerate(shares, 1)
    ]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))


def test_signal_counts_every_round_and_the_steps_after_the_first_pass(
    bench: ModuleType, tmp_path: Path
) -> None:
    _train(tmp_path / "train", 2, [0.0, 1.0, 1.0, 0.0], skipped=2)
    _train(tmp_path / "round-2" / "train", 4, [0.0, 0.0])
    found = bench.signal(tmp_path)
    assert found["steps"] == 6 and found["late_steps"] == 2
    assert found["zero_signal"] == pytest.approx(2 / 6)
    assert found["zero_signal_late"] == pytest.approx(0.5)
    assert found["skipped"] == 4


def _row(run: str, strict: float, paired: dict | None) -> object:
    from synthrl.evaluate.compare_runs import Row

    accuracy = {m: {"mean": strict, "std": 0.0, "ci": [0.0, 1.0]} for m in ("strict", "lenient")}
    return Row(run, "trained", run, "i", "8", accuracy, paired)


def test_verdicts(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    from synthrl.evaluate.compare_runs import Comparison

    gain = {"strict": {"wins": 12, "losses": 1, "mcnemar_p": 0.003}}
    rows = [_row("r1", 0.19, None), _row("r2", 0.30, gain)]
    rows += [_row("skip12", 0.2, None), _row("noskip12", 0.2, None)]
    results = {
        "skip12": {"zero_signal_late": 0.25},
        "noskip12": {"zero_signal_late": 0.5},
    }
    bench.verdicts(Comparison(rows, "r1", 100, "gsm8k"), results)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("BENCH rounds strict_ratio=1.58") and out[0].endswith("PASS")
    assert out[1].startswith("BENCH skip_settled zero_signal_ratio=2.00")
    assert out[1].endswith("target=2 PASS")
    rows[1].paired = {"strict": {"wins": 3, "losses": 2, "mcnemar_p": 1.0}}
    results["skip12"]["zero_signal_late"] = 0.5
    bench.verdicts(Comparison(rows, "r1", 100, "gsm8k"), results)
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("MISS") and out[1].endswith("MISS")
