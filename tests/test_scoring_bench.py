"""bench/scoring.py: the simulated populations follow the real pass-rate histogram they stand
for, full-L agrees with itself on the same draws, the bench scores with the defaults as shipped
(the field defaults at L = 64, the cpu preset's with --quick), and the simulation's plumbing."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from synthrl.config import ScoreConfig
from synthrl.scoring import histogram

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scoring", REPO / "bench" / "scoring.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scoring"] = module
    spec.loader.exec_module(module)
    return module


def test_shaped_rates_follow_the_real_histogram(bench: ModuleType) -> None:
    rates = bench.shaped_rates(random.Random(1), 20_000)
    assert sum(r == 0 for r in rates) / len(rates) == pytest.approx(0.08, abs=0.01)
    shares = [c / len(rates) for c in histogram(rates)]
    assert shares == pytest.approx([c / 100 for c in bench.HISTOGRAM], abs=0.012)


def test_full_l_agrees_with_itself_and_rounds_of_l_save_nothing(bench: ModuleType) -> None:
    pops = bench.populations(20, 16, 2)
    assert len(pops) == 2 and all(len(a) == len(b) == 20 for a, b in pops)
    assert pops[0][0] != pops[0][1]  # the second set is fresh draws
    assert bench.populations(20, 16, 1, first_seed=1) == pops[1:]  # seeded: held-out by seed
    assert bench.noise_floor([(a, a) for a, _ in pops], 16, 10) == (1.0, 1.0)
    # one round of all L draws: the rule never stops a sample early
    same = bench.simulate(pops, 16, 10, round_size=16, delta=0.1, target=2.0)
    assert same == {"ratio": 1.0, "ratio_low": 1.0, "jaccard": 1.0, "jaccard_low": 1.0, "both": 0}
    cheaper = bench.simulate(pops, 16, 10, round_size=4, delta=0.2, target=2.0)
    assert cheaper["ratio"] > 1.0


def test_the_bench_uses_the_shipped_rule(bench: ModuleType) -> None:
    full = bench.shipped_rule(False, 64, 128)
    defaults = ScoreConfig()
    assert (full.round_size, full.delta) == (defaults.round_size, defaults.delta) == (8, 0.1)
    assert full.adaptive and full.samples == 64 and full.max_tokens == 128
    quick = bench.shipped_rule(True, 16, 128)
    assert (quick.round_size, quick.delta, quick.samples) == (4, 0.05, 16)
