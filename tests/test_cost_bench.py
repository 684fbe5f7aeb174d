"""bench/cost.py: the cost model of the paper's protocol against a run's (rounds, per-request
prompts, cache hits in a ledger, label agreement, the BENCH line) on hand-computed numbers, and
the whole measurement on a small run of the scripted fakes, estimated and drawn."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cost() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_cost", REPO / "bench" / "cost.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_cost"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_rounds(cost: ModuleType) -> None:
    # k = 16, min_agreement 0.5: a first round of 8 votes (the agreement bar), then one a round
    assert cost.verify_rounds(9, 16, 0.5, adaptive=True, delta=0.0) == 2
    assert cost.verify_rounds(13, 16, 0.5, adaptive=True, delta=0.0) == 6
    assert cost.verify_rounds(3, 3, 0.5, adaptive=False, delta=0.0) == 1
    assert cost.score_rounds(12, 4, adaptive=True) == 3
    assert cost.score_rounds(6, 4, adaptive=True) == 2
    assert cost.score_rounds(64, 4, adaptive=False) == 1


def test_vote_cost_pays_the_prompt_per_round(cost: ModuleType) -> None:
    paper, ours = cost.vote_cost([10] * 16, prompt=100, drawn=9, rounds=2)
    assert paper == cost.Cost(1, 16, 100, 160)
    assert ours == cost.Cost(2, 9, 200, 90)
    # $0.15 / $0.60 per 1M: paper 100 x 0.15 + 160 x 0.6 = 111 micro-USD, ours 30 + 54 = 84
    assert paper.usd(0.15, 0.60) == pytest.approx(111e-6)
    assert ours.usd(0.15, 0.60) == pytest.approx(84e-6)


def test_ledger_cost_scales_up_cache_hits(cost: ModuleType) -> None:
    row = {"requests": 4, "samples": 10, "prompt_tokens": 400, "completion_tokens": 500}
    assert cost.ledger_cost([{**row, "cache_hits": 0}]) == (cost.Cost(4, 10, 400, 500), "ledger")
    # 5 of 10 completions were cache hits: the 5 drawn stand for all 10
    scaled, source = cost.ledger_cost([{**row, "cache_hits": 5}])
    assert scaled == cost.Cost(8, 10, 800, 1000) and "est." in source
    unknown, source = cost.ledger_cost([{**row, "cache_hits": 10}])
    assert unknown == cost.Cost(0, 10, 0, 0) and "unknown" in source


def test_ledger_cost_counts_cache_hits_at_their_drawn_tokens(cost: ModuleType) -> None:
    # a ledger with the cached_* counters: 4 requests drawn, 3 more answered whole by the cache
    row = {"requests": 4, "samples": 10, "prompt_tokens": 400, "completion_tokens": 500}
    cached = {"cached_requests": 3, "cached_prompt_tokens": 300, "cached_completion_tokens": 450}
    found, source = cost.ledger_cost([{**row, "cache_hits": 5, **cached}])
    assert found == cost.Cost(7, 10, 700, 950) and "est." not in source


def test_agreement_counts_the_runs_kept_samples(cost: ModuleType) -> None:
    ours = {"a": "1", "b": "2", "c": None, "d": "4"}
    paper = {"a": "1.0", "b": None, "c": "3", "d": "5"}

    def same(_: str, x: str, y: str) -> bool:
        return float(x) == float(y)

    # kept by the run: a, b, d; the paper keeps a with the same label, drops b, relabels d
    assert cost.agreement(ours, paper, same) == (1, 3)


def test_bench_line(cost: ModuleType) -> None:
    estimate = cost.bench_line(5.0, 9.0, None)
    assert "label_agreement=n/a estimate=yes" in estimate and estimate.endswith(" MISS")
    assert cost.bench_line(2.0, 3.0, (98, 100)).endswith(" PASS")
    assert cost.bench_line(2.0, 3.0, (97, 100)).endswith(" MISS")
    assert cost.bench_line(1.99, 3.0, (100, 100)).endswith(" MISS")
    line = cost.bench_line(2.5, 3.25, (49, 50))
    assert line.startswith("BENCH cost instructor_ratio=2.50 base_ratio=3.25 label_agreement=0.980")


@pytest.fixture
def fake_run(cost: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple:
    """--quick's run: the `fake:` models registered for this test only."""
    sys.path.insert(0, str(REPO))
    from synthrl import forecast
    from synthrl.llm import registry
    from tests.reliability import world

    monkeypatch.setitem(registry.BACKENDS, "fake", world.backend)
    monkeypatch.setattr(forecast, "gpu", lambda: False)
    return cost.quick_run(tmp_path)


def rows(m) -> dict:
    return {r.stage: r for r in m.rows}


def test_measure_on_the_fakes(cost: ModuleType, fake_run: tuple) -> None:
    """The fake instructor answers 3 of the 4 generated samples the same way every time, and the
    4th (3 + 3) differently at every index. Adaptive k = 16, min_agreement 0.5: a unanimous sample
    stops at 9 votes (after 8 the other 8 could still tie), in 2 requests; the disputed one once
    no answer can reach 8 of 16, at 10 votes, in 3. Each unanimous vote is 7 words ("2 plus 3 is
    5.\\n#### 5"), a disputed one 2 ("#### 7"); the fake counts a word as a token."""
    run, cache = fake_run
    drawn = cost.measure(run, cost.Draw(cache, progress=False))
    verify = rows(drawn)["verify: votes"]
    assert verify.paper.values()[:2] == (4, 64) and verify.ours.values()[:2] == (9, 37)
    assert verify.paper.output_tokens == 3 * 16 * 7 + 16 * 2
    assert verify.ours.output_tokens == 3 * 9 * 7 + 10 * 2
    prompt = verify.paper.input_tokens / 4
    assert verify.ours.input_tokens == 9 * prompt  # the prompt paid once per round
    adapt = rows(drawn)["adapt: votes"]  # 3 rewrites, each unanimous
    assert adapt.paper.values()[:2] == (3, 48) and adapt.ours.values()[:2] == (6, 27)
    score = rows(drawn)["score"]  # 3 initial samples + 3 rewrites, 64 each for the paper
    assert score.paper.completions == 6 * 64
    assert drawn.agreement == (6, 6)  # the fakes are deterministic: the same labels at 16
    # the quick run voted as the what-if's first row (k = 16, adaptive, exact): the same cost
    name, cost_exact, agree, lost = drawn.what_if[0]
    assert name == "k=16 adaptive (exact)" and agree == (6, 6) and lost == 0
    assert cost_exact == cost.totals(drawn, "instructor")[1]
    assert [w[0] for w in drawn.what_if][-1] == "k=4 adaptive (exact)"
    assert drawn.what_if[-1][1].completions < cost_exact.completions
    votes = [r["votes"] for r in drawn.votes]  # what bench/verify.py replays
    assert [r["stage"] for r in drawn.votes] == ["verify"] * 4 + ["adapt"] * 3
    assert all(len(v) == 16 for v in votes)
    assert sum(len(set(v)) == 1 for v in votes) == 6 and len(set(votes[3])) > 8
    assert not [n for n in drawn.notes if n.startswith("check:")]  # the ledger agrees
    assert "244 completions from the call cache, 252 drawn now" in drawn.notes[-1]
    again = cost.measure(run, cost.Draw(cache, progress=False))
    assert "496 completions from the call cache, 0 drawn now" in again.notes[-1]
    assert [r.paper for r in again.rows] == [r.paper for r in drawn.rows]

    estimated = cost.measure(run)  # no model opened: the run's mean tokens
    assert estimated.agreement is None
    guess = rows(estimated)["verify: votes"]
    assert guess.ours.values() == pytest.approx(verify.ours.values())  # exact either way
    assert guess.paper.completions == 64
    assert guess.paper.output_tokens == pytest.approx(64 * 209 / 37)
    assert rows(estimated)["score"].ours.values() == pytest.approx(score.ours.values())


def test_draw_refuses_a_cache_without_the_runs_calls(
    cost: ModuleType, fake_run: tuple, tmp_path: Path
) -> None:
    run, _ = fake_run
    with pytest.raises(SystemExit, match="is it the cache the run used"):
        cost.measure(run, cost.Draw(tmp_path / "other.sqlite", progress=False))


def test_quick_cli_ends_with_the_bench_line(tmp_path: Path) -> None:
    votes = tmp_path / "votes.json"
    out = subprocess.run(
        [sys.executable, "bench/cost.py", "--quick", "--votes-out", str(votes)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    last = out.strip().splitlines()[-1]
    assert last.startswith("BENCH cost instructor_ratio=") and " label_agreement=1.000 " in last
    assert "| instructor USD |" in out and "| score | base | 384 |" in out
    # the drawn votes replay in bench/verify.py as real votes
    replayed = subprocess.run(
        [sys.executable, "bench/verify.py", "--audit", str(votes)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "7 samples, k=16, min_agreement=0.5, kind number, real votes" in replayed
    assert "| full k (paper) | 112 | 1.00 | 1.000 |" in replayed
    assert replayed.strip().splitlines()[-1].startswith("BENCH verify completions_ratio=")
