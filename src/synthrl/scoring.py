"""Pass-rate scores (paper eq. 7), SelectTop, and adaptive early stopping.

Equation 7: with c correct of L sampled completions, score = c / L if c > 0, else 1. SelectTop
takes the M lowest scores: samples the base model solves sometimes, but rarely.

Adaptive scoring (beyond the paper) samples in rounds and stops a sample once its side of the
selection cut is clear, so the selected set matches full-L scoring at far fewer completions:

- tau, the cut, is the M-th lowest current score estimate (never-solved samples count as 1).
- A sample with c > 0 successes in n draws has the posterior Beta(1 + c, 1 + n - c) on its pass
  rate, so its remaining L - n draws are beta-binomial: that gives the chance that its full-L
  score (what full scoring would rank) ends below tau. It stops when that chance is below delta
  (clearly above the cut: not selected) or above 1 - delta (clearly below: selected whatever its
  exact rank). Predicting the full-L score rather than the pass rate itself lets a sample stop
  sooner as its remaining draws run out.
- A never-solved sample would jump to the top of the ranking with one success, so it stops only
  when the chance of any success in its remaining L - n draws is below delta. That chance uses an
  empirical-Bayes prior fitted to all samples' tallies by EM: a point mass at p = 0 (unsolvable
  or mislabelled samples) plus a Beta(a, b), so tasks with many truly unsolvable samples stop
  them early, while a never-solved sample among mostly solvable ones keeps sampling.
- When there are at most M samples, all are selected whatever their scores: one round suffices.

SelectTop's order among equal scores and its top-up are an explicit policy: `selection_key`.
The stage also says, before training, when no selected sample was ever solved (`NEVER_SOLVED`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scipy.special import betaln
from scipy.stats import betabinom


def eq7_score(correct: int, attempts: int) -> float:
    """The paper's equation 7: pass rate if ever solved, else 1."""
    if attempts <= 0:
        raise ValueError("a score needs at least one attempt")
    return correct / attempts if correct > 0 else 1.0


@dataclass(frozen=True)
class Ranked:
    id: str
    score: float
    pass_rate: float
    rank: int
    selected: bool
    reason: str


def selection_key(strategy: str, seed: int = 0) -> Callable[[tuple[str, int, int]], tuple]:
    """The sort key of an (id, correct, attempts) row under `strategy`: the order SelectTop
    takes samples in, documented in docs/scoring.md.

    potential (the paper): ascending eq. 7 score, so 0 < pass rate < 1 first, lowest first;
    then, among score 1 (the top-up when fewer than M samples have 0 < pass rate < 1),
    solved-every-time before never-solved (a never-solved sample may be mislabelled). easy:
    highest pass rate first. hard: lowest first (never-solved included). all: as potential.
    Equal keys: the better-measured sample first (more attempts), then a seeded shuffle (a
    hash of seed and id), never the accident of id prefixes.
    """
    if strategy not in ("potential", "easy", "hard", "all"):
        raise ValueError(f"unknown selection strategy {strategy!r}")

    def key(row: tuple[str, int, int]) -> tuple:
        sid, correct, attempts = row
        rate = correct / attempts
        if strategy == "easy":
            first: tuple = (-rate,)
        elif strategy == "hard":
            first = (rate,)
        else:
            first = (eq7_score(correct, attempts), -rate)
        shuffle = hashlib.sha256(f"{seed}:{sid}".encode()).hexdigest()
        return (*first, -attempts, shuffle)

    return key


def select_top(
    rows: Sequence[tuple[str, int, int]], m: int, strategy: str = "potential", seed: int = 0
) -> list[Ranked]:
    """Rank (id, correct, attempts) rows by `selection_key` and mark the M selected (`all`:
    every sample)."""
    order = [
        (sid, eq7_score(c, n), c / n)
        for sid, c, n in sorted(rows, key=selection_key(strategy, seed))
    ]
    take = len(order) if strategy == "all" else m
    ranked = []
    for rank, (sid, score, rate) in enumerate(order, 1):
        selected = rank <= take
        if selected:
            reason = f"{strategy}: rank {rank} of {len(order)}"
        else:
            reason = f"rank {rank} is past M={m}"
        if rate == 0:
            reason += "; never solved (score 1)"
        ranked.append(Ranked(sid, score, rate, rank, selected, reason))
    return ranked


@dataclass
class Tally:
    """Attempts and successes of one sample so far."""

    attempts: int = 0
    correct: int = 0
    stopped: str = ""  # why sampling stopped early ("" while active or after all L)


def fit_prior(tallies: Sequence[Tally], iterations: int = 25) -> Prior:
    """Fit the zero-inflated Beta prior to all samples' tallies by EM.

    Components: a point mass at p = 0 (unsolvable or mislabelled samples) with weight `zero`,
    and Beta(a, b) for the rest, fitted by weighted moments of the observed pass rates less their
    binomial noise. Two draws per sample cannot tell the point mass from a Beta piled up near 0;
    four can (see tests/test_scoring.py), one reason rounds are 4 by default.
    """
    seen = [t for t in tallies if t.attempts]
    if len(seen) < 2:
        return Prior(0.0, 1.0, 1.0)
    zero, a, b = 0.5, 1.0, 1.0
    for _ in range(iterations):
        current = Prior(zero, a, b)
        # P(sample comes from the Beta component | its tally)
        weights = [1.0 if t.correct else current.chance_solvable(t.attempts) for t in seen]
        zero = 1 - sum(weights) / len(seen)
        a, b = _weighted_beta_moments(seen, weights, (a, b))
    return Prior(min(max(zero, 0.0), 0.999), a, b)


def _weighted_beta_moments(
    tallies: Sequence[Tally], weights: Sequence[float], fallback: tuple[float, float]
) -> tuple[float, float]:
    """Beta(a, b) with the weighted mean and variance of the pass rates, less the binomial noise
    of each observed rate c / n around its true rate (unbiased: c(n - c) / (n^2 (n - 1))).
    Uncorrected, 4 draws each of uniform rates look U-shaped (a, b ~ 0.4) and hide the
    unsolvable share inside the Beta."""
    total = sum(weights)
    if total < 1e-9:
        return fallback
    rates = [t.correct / t.attempts for t in tallies]
    mean = sum(w * r for w, r in zip(weights, rates, strict=True)) / total
    mean = min(max(mean, 1e-3), 1 - 1e-3)
    spread = sum(w * (r - mean) ** 2 for w, r in zip(weights, rates, strict=True))
    noise = sum(
        w * r * (1 - r) / (t.attempts - 1)
        for w, r, t in zip(weights, rates, tallies, strict=True)
        if t.attempts > 1
    )
    # no spread beyond the noise: one common rate; cap the concentration a + b at 100
    var = max((spread - noise) / total, mean * (1 - mean) / 101)
    if var >= mean * (1 - mean):
        return fallback
    common = mean * (1 - mean) / var - 1
    return max(mean * common, 0.05), max((1 - mean) * common, 0.05)


@dataclass(frozen=True)
class Prior:
    """Zero-inflated Beta prior on pass rates: P(p = 0) = zero, else p ~ Beta(a, b)."""

    zero: float
    a: float
    b: float

    def chance_solvable(self, failures: int) -> float:
        """P(p comes from the Beta component | `failures` draws, none correct)."""
        beta_none = math.exp(betaln(self.a, self.b + failures) - betaln(self.a, self.b))
        return (1 - self.zero) * beta_none / (self.zero + (1 - self.zero) * beta_none)


def chance_of_any_success(attempts: int, remaining: int, prior: Prior) -> float:
    """P(at least one success in `remaining` more draws | none in `attempts` so far)."""
    still_none = math.exp(
        betaln(prior.a, prior.b + attempts + remaining) - betaln(prior.a, prior.b + attempts)
    )
    return prior.chance_solvable(attempts) * (1.0 - still_none)


def chance_full_score_below(tally: Tally, total: int, tau: float) -> float:
    """P(c_L / L < tau) for a solved sample, where c_L is its success count after all `total`
    draws: the remaining draws are beta-binomial under the posterior Beta(1 + c, 1 + n - c)."""
    remaining = total - tally.attempts
    # c + X < tau * total  <=>  X <= ceil(tau * total) - c - 1 (tolerating float round-off)
    most = math.ceil(tau * total - 1e-9) - tally.correct - 1
    if most < 0:
        return 0.0
    if most >= remaining:
        return 1.0
    successes, failures = 1 + tally.correct, 1 + tally.attempts - tally.correct
    return float(betabinom(remaining, successes, failures).cdf(most))


def current_cut(tallies: Sequence[Tally], m: int) -> float:
    """The M-th lowest current score estimate (posterior mean if solved, else 1)."""
    estimates = sorted((1 + t.correct) / (2 + t.attempts) if t.correct else 1.0 for t in tallies)
    return estimates[min(m, len(estimates)) - 1]


def update_stops(tallies: Sequence[Tally], total: int, m: int, delta: float) -> None:
    """Mark samples whose side of the selection cut is settled (see the module docstring)."""
    if len(tallies) <= m:
        for t in tallies:
            if not t.stopped and t.attempts < total:
                t.stopped = "at most M samples: all selected"
        return
    tau = current_cut(tallies, m)
    prior = fit_prior(tallies)
    for t in tallies:
        if t.stopped or t.attempts >= total:
            continue
        if t.correct == 0:
            if chance_of_any_success(t.attempts, total - t.attempts, prior) < delta:
                t.stopped = "never solved; a later success is unlikely"
            continue
        below = chance_full_score_below(t, total, tau)
        if below < delta:
            t.stopped = "clearly above the cut"
        elif below > 1 - delta:
            t.stopped = "clearly below the cut"


def histogram(pass_rates: Sequence[float], bins: int = 10) -> list[int]:
    """Counts of pass rates in `bins` equal bins over [0, 1] (1.0 in the last bin)."""
    counts = [0] * bins
    for rate in pass_rates:
        counts[min(int(rate * bins), bins - 1)] += 1
    return counts


NEVER_SOLVED = (
    "no selected sample has a non-zero pass rate: the base model never produced an answer the "
    "checker accepts, so GRPO would see zero reward everywhere and learn nothing. Check the "
    "output format instruction, raise score.samples or score.max_tokens, or use a stronger base."
)
