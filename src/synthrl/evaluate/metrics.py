"""Accuracy arithmetic: mean +- std over seeds, Wilson and bootstrap intervals, and the exact
McNemar test for paired wins/losses between two models on the same items."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from statistics import mean, stdev

from scipy.stats import binomtest


def wilson(correct: float, total: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (95% by default); `correct` may be fractional
    (a per-item share of correct runs summed over items)."""
    if total == 0:
        return 0.0, 0.0
    p = correct / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def bootstrap_diff(
    a: Sequence[float], b: Sequence[float], rounds: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95% paired-bootstrap interval of accuracy(b) - accuracy(a) over the same items (each
    item's correctness, or its share of correct runs)."""
    if len(a) != len(b) or not a:
        raise ValueError("paired samples of equal, non-zero length are needed")
    rng = random.Random(seed)
    n = len(a)
    diffs = []
    for _ in range(rounds):
        idx = [rng.randrange(n) for _ in range(n)]
        diffs.append(sum(b[i] - a[i] for i in idx) / n)
    diffs.sort()
    return diffs[int(0.025 * rounds)], diffs[int(0.975 * rounds) - 1]


def mcnemar(a: Sequence[float], b: Sequence[float]) -> tuple[int, int, float]:
    """(items only b got right, items only a got right, exact two-sided p-value). An item
    counts as right when more than half of its runs were (its only run, when greedy)."""
    wins = sum(1 for x, y in zip(a, b, strict=True) if y > 0.5 >= x)
    losses = sum(1 for x, y in zip(a, b, strict=True) if x > 0.5 >= y)
    if wins + losses == 0:
        return 0, 0, 1.0
    return wins, losses, float(binomtest(wins, wins + losses, 0.5).pvalue)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return mean(values), (stdev(values) if len(values) > 1 else 0.0)
