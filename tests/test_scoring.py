"""Equation 7, SelectTop (ties, all-unsolved, fewer than M, ablations) and adaptive stopping on
simulated pass rates with known ground truth."""

from __future__ import annotations

import random

import pytest

from synthrl.scoring import (
    Prior,
    Tally,
    chance_full_score_below,
    chance_of_any_success,
    eq7_score,
    fit_prior,
    select_top,
    update_stops,
)


def test_eq7() -> None:
    assert eq7_score(0, 64) == 1.0
    assert eq7_score(1, 64) == 1 / 64
    assert eq7_score(64, 64) == 1.0
    assert eq7_score(16, 64) == 0.25
    with pytest.raises(ValueError):
        eq7_score(0, 0)


def test_select_top_prefers_low_positive_pass_rates() -> None:
    rows = [("a", 64, 64), ("b", 0, 64), ("c", 1, 64), ("d", 32, 64), ("e", 8, 64)]
    ranked = select_top(rows, m=3)
    assert [r.id for r in ranked] == ["c", "e", "d", "a", "b"]  # b (never) and a (always) tie at 1
    assert [r.id for r in ranked if r.selected] == ["c", "e", "d"]
    assert "never solved" in ranked[-1].reason and not ranked[-1].selected


def test_tie_policy_is_explicit_not_the_order_of_ids() -> None:
    # Top-up among score 1: solved-every-time before never-solved, whatever the ids say.
    ranked = select_top([("a", 0, 8), ("b", 8, 8), ("c", 0, 8)], m=1)
    assert [r.id for r in ranked if r.selected] == ["b"]
    # Equal scores: the better-measured sample (more attempts) first.
    ranked = select_top([("a", 1, 4), ("b", 2, 8)], m=1)
    assert [r.id for r in ranked if r.selected] == ["b"]
    # Fully equal: a seeded shuffle, the same for the same seed, not id order for every seed.
    rows = [(f"g{i:05d}", 2, 8) for i in range(40)]
    picks = {select_top(rows, m=1, seed=seed)[0].id for seed in range(8)}
    assert len(picks) > 1
    assert select_top(rows, m=5, seed=3) == select_top(list(reversed(rows)), m=5, seed=3)
    unsolved = select_top([("p", 0, 8), ("q", 0, 8)], m=1)
    assert sum(r.selected for r in unsolved) == 1 and all(r.score == 1 for r in unsolved)


def test_fewer_than_m_takes_all_and_ablations() -> None:
    rows = [("a", 1, 4), ("b", 4, 4), ("c", 0, 4)]
    assert all(r.selected for r in select_top(rows, m=10))
    assert [r.id for r in select_top(rows, m=1, strategy="easy") if r.selected] == ["b"]
    assert [r.id for r in select_top(rows, m=1, strategy="hard") if r.selected] == ["c"]
    assert all(r.selected for r in select_top(rows, m=1, strategy="all"))
    with pytest.raises(ValueError):
        select_top(rows, m=1, strategy="random")


def test_chance_of_any_success() -> None:
    uniform = chance_of_any_success(8, 56, Prior(0.0, 1.0, 1.0))
    assert uniform == pytest.approx(56 / 65)
    assert chance_of_any_success(8, 56, Prior(0.9, 1.0, 1.0)) < uniform / 5


def test_prior_finds_the_unsolvable_share() -> None:
    rng = random.Random(1)
    tallies = [Tally(16, 0) for _ in range(30)]
    tallies += [Tally(16, sum(rng.random() < 0.6 for _ in range(16))) for _ in range(70)]
    prior = fit_prior(tallies)
    assert 0.25 < prior.zero < 0.35
    assert 0.5 < prior.a / (prior.a + prior.b) < 0.7


def simulate(
    true_rates: list[float], total: int, m: int, adaptive: bool, seed: int, round_size: int = 4
):
    rng = random.Random(seed)
    tallies = [Tally() for _ in true_rates]
    draws = [[rng.random() < p for _ in range(total)] for p in true_rates]  # common random numbers
    step = round_size if adaptive else total
    while True:
        active = [i for i, t in enumerate(tallies) if not t.stopped and t.attempts < total]
        if not active:
            break
        for i in active:
            take = min(step, total - tallies[i].attempts)
            tallies[i].correct += sum(draws[i][tallies[i].attempts : tallies[i].attempts + take])
            tallies[i].attempts += take
        if adaptive:
            update_stops(tallies, total, m, delta=0.05)
    ranked = select_top([(str(i), t.correct, t.attempts) for i, t in enumerate(tallies)], m)
    return {r.id for r in ranked if r.selected}, sum(t.attempts for t in tallies)


def test_adaptive_matches_full_scoring_with_fewer_completions() -> None:
    rng = random.Random(0)
    # A realistic mix: many easy samples, some unsolvable, a band of medium ones.
    rates = (
        [0.9 + 0.1 * rng.random() for _ in range(100)]
        + [0.0] * 40
        + [rng.uniform(0.02, 0.7) for _ in range(60)]
    )
    overlaps, noise, savings = [], [], []
    jaccard = lambda a, b: len(a & b) / len(a | b)  # noqa: E731
    for seed in range(5):
        full, full_cost = simulate(rates, 64, 40, adaptive=False, seed=seed)
        rerun, _ = simulate(rates, 64, 40, adaptive=False, seed=seed + 100)
        fast, fast_cost = simulate(rates, 64, 40, adaptive=True, seed=seed)
        overlaps.append(jaccard(full, fast))
        noise.append(jaccard(full, rerun))  # full-L scoring's own run-to-run agreement
        savings.append(full_cost / fast_cost)
    mean = sum(overlaps) / len(overlaps)
    assert mean >= 0.8, overlaps
    assert mean >= sum(noise) / len(noise) - 0.05, (overlaps, noise)
    assert min(savings) >= 3, savings


def test_at_most_m_samples_stop_after_one_round() -> None:
    tallies = [Tally(4, 1), Tally(4, 0)]
    update_stops(tallies, total=64, m=5, delta=0.05)
    assert all(t.stopped.startswith("at most M") for t in tallies)


def test_all_correct_stops_early_as_clearly_above_cut() -> None:
    tallies = [Tally(8, 8) for _ in range(10)] + [Tally(8, 1) for _ in range(10)]
    update_stops(tallies, total=64, m=10, delta=0.05)
    assert all(t.stopped == "clearly above the cut" for t in tallies[:10])
    assert not any(t.stopped == "clearly above the cut" for t in tallies[10:])


def test_chance_full_score_below_predicts_the_remaining_draws() -> None:
    # one draw left: 10/32 < 0.33 only if it fails; P(fail) = posterior mean 22/33
    assert chance_full_score_below(Tally(31, 10), total=32, tau=0.33) == pytest.approx(22 / 33)
    # already past the cut whatever happens, or below it whatever happens
    assert chance_full_score_below(Tally(8, 8), total=32, tau=0.1) == 0.0
    assert chance_full_score_below(Tally(30, 1), total=32, tau=0.5) == 1.0
    # the same pass rate (1/4) with more draws left is less surely below the cut: 2/8 vs 14/56
    early = chance_full_score_below(Tally(8, 2), total=64, tau=0.3)
    late = chance_full_score_below(Tally(56, 14), total=64, tau=0.3)
    assert 0.5 < early < 0.7 < 0.95 < late < 1.0


@pytest.mark.parametrize("draws", [4, 8])
def test_prior_recovers_a_known_population_from_few_draws(draws: int) -> None:
    # 15% unsolvable, the rest uniform: the binomial noise of c / n must not pass for spread
    # (uncorrected moments gave zero ~ 0.01 and a U-shaped Beta(0.3, 0.4) at 4 draws)
    rng = random.Random(draws)
    rates = [0.0 if rng.random() < 0.15 else rng.random() for _ in range(3000)]
    tallies = [Tally(draws, sum(rng.random() < p for _ in range(draws))) for p in rates]
    prior = fit_prior(tallies)
    assert 0.1 < prior.zero < 0.22
    assert 0.75 < prior.a < 1.4 and 0.75 < prior.b < 1.4
