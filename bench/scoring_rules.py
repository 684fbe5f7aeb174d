"""Stopping rules for adaptive scoring, replayed on the real draws `bench/scoring.py` made: what
each rule costs and how well its selected set matches full-L scoring, next to two bounds.

    .venv/bin/python bench/scoring_rules.py [--quick] [--run runs/bench-scoring]

Reads the completions `bench/scoring.py` drew (its cache in the run directory; run that first)
and judges them, so every rule sees the same per-draw outcomes and only the stopping differs:

- synthrl's rule (`synthrl.scoring.update_stops`) at several `score.delta` and round sizes;
- Bayes-optimal stopping: per sample, backward induction over (draws, successes) minimises
  draws + C x P(its full-L side of the cut differs from the side it is assigned), under the same
  empirical-Bayes prior and cut; C (draws one misplaced sample is worth) is the trade-off;
- a lower bound: the same optimal stopping when each sample's pass rate is *known* (taken as its
  full-L rate). No rule that has to learn the rates can beat it; its Jaccard is the expected one.
- a tighter bound: optimal stopping that knows the population's law of pass rates (the full-L
  rates as a prior) and the cut, but must learn which sample has which rate from its draws.
  What a learned rule loses beyond it is the price of estimating that law from the first rounds.
  The same oracle is also replayed on the actual draws: its realised ratio and Jaccard.

Prints a table and `BENCH scoring_rules best_ratio=... target=... PASS|MISS`: the largest
completions ratio any learned rule in the table reaches at Jaccard >= 0.8 on these draws. That
picks the best rule after seeing the test draws, so it shows what tuning could reach at most,
not a setting to ship.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from scipy.stats import betabinom, binom

ROOT = Path(__file__).resolve().parents[1]
Rule = Callable[[list, int, int], None]


def load_draws(run_dir: Path, count: int, total: int, max_tokens: int) -> list[tuple[str, list]]:
    """(sample id, per-draw verdicts) for the first `count` samples with `total` cached draws."""
    from synthrl.answers import judge_many
    from synthrl.artifacts import RunDir
    from synthrl.config import LLMConfig
    from synthrl.llm import CallCache, open_backend
    from synthrl.llm.base import Request
    from synthrl.prompts import solve_messages
    from synthrl.task import load_task

    task = load_task(ROOT / "examples/tasks/gsm8k.yaml")
    cache_file = run_dir / f"bench-cache-{max_tokens}.sqlite"
    if not cache_file.exists():
        raise SystemExit(f"{cache_file} not found: run bench/scoring.py --run {run_dir} first")
    backend = open_backend("embedded:base", LLMConfig(context=2048))
    cache = CallCache(cache_file)
    out = []
    for sample in RunDir(run_dir).rows("adapt", "samples.jsonl")[:count]:
        request = Request.chat(
            solve_messages(task, sample["input"]),
            n=total,
            temperature=0.7,
            max_tokens=max_tokens,
            seed=0,
            first_sample=0,
        )
        keys = [request.sample_key(backend.name, backend.model, j) for j in range(total)]
        hits = cache.get_many(keys)
        if len(hits) < total:
            raise SystemExit(f"sample {sample['id']} has {len(hits)} of {total} draws cached")
        texts = [hits[key][0].text for key in keys]
        opts = task.checker_options(sample["input"])
        out.append((sample["id"], judge_many(texts, sample["label"], task.answer.kind, **opts)))
    return out


def replay(draws: list[tuple[str, list]], total: int, m: int, rule: Rule | None, step: int):
    """Run a stopping rule over the recorded draws; return (completions, selected ids)."""
    from synthrl.scoring import Tally, select_top

    tallies = [Tally() for _ in draws]
    while True:
        active = [i for i, t in enumerate(tallies) if not t.stopped and t.attempts < total]
        if not active:
            break
        for i in active:
            take = min(total if rule is None else step, total - tallies[i].attempts)
            seen = draws[i][1][tallies[i].attempts : tallies[i].attempts + take]
            tallies[i].attempts += take
            tallies[i].correct += sum(seen)
        if rule is not None:
            rule(tallies, total, m)
    rows = [(sid, t.correct, t.attempts) for (sid, _), t in zip(draws, tallies, strict=True)]
    return sum(t.attempts for t in tallies), {r.id for r in select_top(rows, m) if r.selected}


def compare(populations: list, fulls: list, total: int, m: int, make_rule, step: int):
    """Replay `make_rule(draws)` on every population: (mean ratio, mean Jaccard, lowest Jaccard)
    against full-L scoring."""
    ratios, overlaps = [], []
    for draws, (full_cost, full_selected) in zip(populations, fulls, strict=True):
        cost, selected = replay(draws, total, m, make_rule(draws), step)
        ratios.append(full_cost / cost)
        overlaps.append(overlap(selected, full_selected))
    return float(np.mean(ratios)), float(np.mean(overlaps)), min(overlaps)


def overlap(a: set, b: set) -> float:
    """Jaccard index of two selected sets."""
    return len(a & b) / len(a | b)


def mark_stops(tallies: list, total: int, stop: dict, why: str) -> None:
    """Stop every active sample whose (draws, successes) the table `stop` says to stop at."""
    for t in tallies:
        if not t.stopped and t.attempts < total and stop[t.attempts, t.correct]:
            t.stopped = why


def optimal_stops(total: int, bound: int, step: int, cost: float, predictive) -> dict:
    """Backward induction: stop[(n, c)] is True where C x P(wrong side) <= the expected cost of
    going on. `predictive(n, c, k)` gives P(x successes in k more draws), x = 0..k. The sample is
    below the cut at the end iff 0 < c_L < bound (never solved scores 1, eq. 7)."""
    value: dict = {}
    stop: dict = {}
    for n in range(total, -1, -1):
        for c in range(n + 1):
            if n == total:
                value[n, c], stop[n, c] = 0.0, True
                continue
            left = total - n
            final = c + np.arange(left + 1)
            below = float(predictive(n, c, left)[(final > 0) & (final < bound)].sum())
            stop_cost = cost * min(below, 1 - below)
            take = min(step, left)
            chances = predictive(n, c, take)
            go_cost = take + sum(chances[x] * value[n + take, c + x] for x in range(take + 1))
            stop[n, c] = n > 0 and stop_cost <= go_cost
            value[n, c] = stop_cost if stop[n, c] else go_cost
    return stop


def bayes_rule(cost: float, step: int) -> Rule:
    """Optimal stopping under the empirical-Bayes zero-inflated prior and the current cut."""
    from synthrl.scoring import current_cut, fit_prior, update_stops

    def rule(tallies: list, total: int, m: int) -> None:
        if len(tallies) <= m:
            update_stops(tallies, total, m, 0.05)
            return
        prior = fit_prior(tallies)
        bound = math.ceil(current_cut(tallies, m) * total - 1e-9)

        def predictive(n: int, c: int, k: int) -> np.ndarray:
            zero = 0.0 if c else 1.0 - prior.chance_solvable(n)  # posterior weight of p = 0
            chances = (1 - zero) * betabinom(k, prior.a + c, prior.b + n - c).pmf(np.arange(k + 1))
            chances[0] += zero
            return chances

        mark_stops(tallies, total, optimal_stops(total, bound, step, cost, predictive), "optimal")

    return rule


def known_rate_bound(draws: list, total: int, m: int, cost: float, step: int):
    """Expected (completions, Jaccard) of optimal stopping when each pass rate is known."""
    rates = [sum(d) / total for _, d in draws]
    return _expected_over(rates, total, m, step, _binomial, cost)


def known_law_bound(draws: list, total: int, m: int, cost: float, step: int):
    """Expected (completions, Jaccard) of optimal stopping that knows the population's pass-rate
    law (the full-L rates, as a discrete prior) and the cut, but not which sample has which
    rate: the best a rule that learns each rate from its own draws can do on this population."""
    rates = [sum(d) / total for _, d in draws]
    predictive = _law_predictive(rates)
    return _expected_over(rates, total, m, step, lambda p: predictive, cost)


def known_law_rule(draws: list, total: int, m: int, cost: float, step: int) -> Rule:
    """The same oracle stopping as `known_law_bound`, as a rule to replay on the actual draws."""
    rates = [sum(d) / total for _, d in draws]
    stop = optimal_stops(total, _oracle_bound(rates, total, m), step, cost, _law_predictive(rates))

    return lambda tallies, total, m: mark_stops(tallies, total, stop, "oracle")


def oracle_sweep(populations: list, fulls: list, total: int, m: int) -> str:
    """The law-and-cut oracle replayed over a grid of C and round sizes: its best mean ratio at
    mean Jaccard >= 0.8, i.e. whether any setting of it meets the target on these draws."""
    best = (0.0, "", 0.0)
    for step in (1, 2, 4):
        for scale in (1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 4):
            oracle = partial(known_law_rule, total=total, m=m, cost=scale * total, step=step)
            ratio, jaccard, _ = compare(populations, fulls, total, m, oracle, step)
            if jaccard >= 0.8 and ratio > best[0]:
                best = (ratio, f"C {scale:g}L, rounds of {step}", jaccard)
    return (
        "oracle (rate law and cut known) over C 1.25L-4L x rounds 1/2/4: best ratio at Jaccard"
        f" >= 0.8: {best[0]:.2f} ({best[1]}, Jaccard {best[2]:.3f})"
    )


def _law_predictive(rates: list[float]):
    """P(x successes in k more draws | c of n so far), with the pass rate drawn from `rates`."""
    support = np.array(rates)

    def predictive(n: int, c: int, k: int) -> np.ndarray:
        weights = support**c * (1 - support) ** (n - c)
        weights = weights / weights.sum()
        outcomes = binom.pmf(np.arange(k + 1)[None, :], k, support[:, None])
        return weights @ outcomes

    return predictive


def _oracle_bound(rates: list[float], total: int, m: int) -> int:
    """Full-L's cut as a success count: selected iff 0 < c_L < bound (ties count as selected)."""
    cut = sorted(r if r > 0 else 1.0 for r in rates)[m - 1]
    return math.floor(cut * total + 1e-9) + 1


def _binomial(p: float):
    return lambda n, c, k: binom.pmf(np.arange(k + 1), k, p)


def _expected_over(rates: list[float], total: int, m: int, step: int, believed, cost: float):
    """Average, over samples with the given true rates, of the draws and misplacements of optimal
    stopping under `believed(p)`, the predictive the rule works with; Jaccard from the swaps."""
    bound = _oracle_bound(rates, total, m)
    spent = errors = 0.0
    policies: dict = {}  # one stopping table per predictive (shared when the law is shared)
    for p in rates:
        predictive = believed(p)
        if predictive not in policies:
            policies[predictive] = optimal_stops(total, bound, step, cost, predictive)
        used, error = _walk(p, total, bound, step, policies[predictive], predictive)
        spent += used
        errors += error
    swaps = errors / 2  # each swap misplaces one selected and one unselected sample
    return spent, (m - swaps) / (m + swaps)


def _walk(p: float, total: int, bound: int, step: int, stop: dict, predictive) -> tuple:
    """(expected draws, chance of the wrong side) of a sample with true rate p under `stop`; a
    stopped sample takes the side its predictive makes more likely."""
    truth = _binomial(p)
    memo: dict = {}

    def side_error(n: int, c: int) -> float:
        final = c + np.arange(total - n + 1)
        selected = (final > 0) & (final < bound)
        believed_below = float(predictive(n, c, total - n)[selected].sum())
        below = float(truth(n, c, total - n)[selected].sum())
        return 1 - below if believed_below >= 0.5 else below

    def walk(n: int, c: int) -> tuple[float, float]:
        if (n, c) not in memo:
            if stop[n, c]:
                memo[n, c] = (0.0, side_error(n, c))
            else:
                take = min(step, total - n)
                nexts = [walk(n + take, c + x) for x in range(take + 1)]
                weights = truth(n, c, take)
                memo[n, c] = (
                    take + sum(w * d for w, (d, _) in zip(weights, nexts, strict=True)),
                    sum(w * e for w, (_, e) in zip(weights, nexts, strict=True)),
                )
        return memo[n, c]

    return walk(0, 0)


def simulated(seed: int, count: int, total: int) -> tuple[list, list]:
    """Two independent sets of draws from the same known pass rates (15% unsolvable, the rest
    uniform over [0, 1]): the second measures full-L scoring's own run-to-run agreement."""
    rng = random.Random(seed)
    rates = [0.0 if rng.random() < 0.15 else rng.random() for _ in range(count)]

    def draw() -> list[tuple[str, list]]:
        return [
            (f"s{i:04d}", [rng.random() < p for _ in range(total)]) for i, p in enumerate(rates)
        ]

    return draw(), draw()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 samples at L=16")
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "bench-scoring")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument(
        "--simulated", type=int, default=0, metavar="K", help="K simulated populations instead"
    )
    args = parser.parse_args()
    count, total = (40, 16) if args.quick else (100, 32)
    target = 2.0 if args.quick else 3.0
    from synthrl.scoring import update_stops

    m = count // 2
    if args.simulated:
        pairs = [simulated(seed, count, total) for seed in range(args.simulated)]
        populations = [first for first, _ in pairs]
        source = f"{args.simulated} simulated populations (15% unsolvable, rest uniform)"
    else:
        populations = [load_draws(args.run, count, total, args.max_tokens)]
        source = f"real draws from {args.run}"
    fulls = [replay(draws, total, m, None, total) for draws in populations]
    print(f"\n{count} samples, L={total}, M={m}, {source}; full-L draws {fulls[0][0]}\n")
    print("| rule | round | completions ratio | Jaccard vs full-L | lowest Jaccard |")
    print("|---|---:|---:|---:|---:|")
    if args.simulated:
        overlaps = []
        for (_, again), (_, full_selected) in zip(pairs, fulls, strict=True):
            selected = replay(again, total, m, None, total)[1]
            overlaps.append(overlap(selected, full_selected))
        agreement = f"{np.mean(overlaps):.3f} | {min(overlaps):.3f}"
        print(f"| full-L again, fresh draws | - | 1.00 | {agreement} |")
    best = 0.0
    for step in (4, 2):
        rules: list[tuple[str, Rule]] = [
            (f"synthrl, delta {d}", lambda t, L, m, d=d: update_stops(t, L, m, d))
            for d in (0.05, 0.1, 0.15)
        ]
        rules += [(f"Bayes-optimal stopping, C {c}", bayes_rule(c, step)) for c in (40, 80, 160)]
        for name, rule in rules:
            ratio, jaccard, lowest = compare(
                populations, fulls, total, m, lambda _, r=rule: r, step
            )
            if jaccard >= 0.8:
                best = max(best, ratio)
            print(f"| {name} | {step} | {ratio:.2f} | {jaccard:.3f} | {lowest:.3f} |")
    for cost in (40, 80, 160):
        spent, jaccard = known_rate_bound(populations[0], total, m, cost, 4)
        ratio = fulls[0][0] / spent
        print(f"| bound: pass rates known, C {cost} | 4 | {ratio:.2f} | ~{jaccard:.3f} | |")
    for scale in (1.5, 2, 3):  # C in units of L: a misplaced sample is worth scale x full scoring
        spent, jaccard = known_law_bound(populations[0], total, m, scale * total, 2)
        name = f"bound: rate law and cut known, C {scale:g}L"
        print(f"| {name} | 2 | {fulls[0][0] / spent:.2f} | ~{jaccard:.3f} | |")
    for scale in (1.5, 2, 2.5, 3):  # the same oracle on the actual draws (not in best_ratio)
        oracle = partial(known_law_rule, total=total, m=m, cost=scale * total, step=2)
        ratio, jaccard, lowest = compare(populations, fulls, total, m, oracle, 2)
        name = f"oracle: rate law and cut known, C {scale:g}L, replayed"
        print(f"| {name} | 2 | {ratio:.2f} | {jaccard:.3f} | {lowest:.3f} |")
    print(f"\n{oracle_sweep(populations, fulls, total, m)}")
    verdict = "PASS" if best >= target else "MISS"
    print(f"\nBENCH scoring_rules best_ratio={best:.2f} target={target:g} {verdict}")


if __name__ == "__main__":
    main()
