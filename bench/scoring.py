"""Full-L pass-rate scoring (paper eq. 7) vs synthrl's adaptive scoring at the paper's L = 64, on
simulated populations and on real draws of the embedded base model over a real synthetic set
made by the pipeline (embedded instructor, cached).

    .venv/bin/python bench/scoring.py [--run runs/NAME]   # 100 samples, L=64 (hours, resumable)
    .venv/bin/python bench/scoring.py --quick             # 40 samples, L=16, the cpu preset's rule
    .venv/bin/python bench/scoring.py --choose            # how the defaults were chosen (no model)

The rule's defaults were chosen before any real L = 64 draw was replayed (`--choose`, recorded in
docs/benchmarks.md on 2026-12-03): over simulated populations shaped like the real pass-rate
histogram of this model (`HISTOGRAM`: 100 real samples at L = 32, 2026-11-23), the setting of
`score.round_size` x `score.delta` that meets both targets (ratio >= 3, Jaccard >= 0.8) in the
largest share of populations became the field defaults (`synthrl.config.ScoreConfig`). The bench
uses those defaults as shipped (the `paper` preset's, with `score.adaptive` on; `--quick`: the
`cpu` preset's) and reports both: the defaults on simulated populations with full-L scoring's own
noise floor (full-L against a fresh full-L run, Jaccard), then the real draws.

Real draws: both scorers see the same completions: the call cache keys each completion by its
sample and draw index, so adaptive scoring's first n draws are full scoring's first n, and the
comparison isolates the stopping rule (cost and selected set). Full scoring runs first and
generates (batched llama.cpp sampling, prefix-shared); adaptive scoring then replays from the
cache and counts what it would have generated; its seconds are its tokens at full scoring's
measured rate. The cache file (one per max_tokens, in the run directory) is kept, so a killed
bench resumes where it stopped, and a smaller setting (fewer samples, smaller L) replays a
larger one's completions. Without --run the synthetic set is made in runs/bench-scoring
(runs/bench-scoring-quick with --quick), and both caches (the pipeline's instructor calls and
the draws) are mirrored every 5 minutes in bench/data/<run name>/ as JSON lines: committed,
they carry the hours of draws to another machine, where the same command restores them first.
(The quick run's mirror, bench/data/bench-scoring-quick/, is minutes of work and git-ignored.)

Ends with `BENCH scoring completions_ratio=X jaccard=Y L=L target=ratio>=3,jaccard>=0.8
PASS|MISS` on the real draws (--quick: ratio >= 2 at L = 16).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from synthrl.config import ScoreConfig
from synthrl.llm import LLM

ROOT = Path(__file__).resolve().parents[1]
sys.path.append(str(ROOT / "bench"))
from scoring_rules import overlap, replay  # noqa: E402  (a bench beside this one)

# Pass rates of the embedded base model on 100 real synthetic GSM8K samples at L = 32
# (bench/scoring.py, 2026-11-23; 10 bins over [0, 1]), 8 of them never solved.
HISTOGRAM, NEVER_SOLVED = [19, 7, 8, 10, 6, 9, 6, 14, 10, 11], 8
TARGET_JACCARD = 0.8
GRID_ROUND_SIZES, GRID_DELTAS = (4, 6, 8, 12, 16), (0.05, 0.075, 0.1, 0.15)
HELD_OUT = 10_000  # the bench's own populations start at this seed; --choose used 0 ..
Draws = list[tuple[str, list[bool]]]


def shaped_rates(rng: random.Random, count: int) -> list[float]:
    """`count` pass rates drawn like `HISTOGRAM`: the never-solved share at 0, the rest uniform
    within a bin picked by its count (bin 0 less the never-solved)."""
    weights = [HISTOGRAM[0] - NEVER_SOLVED, *HISTOGRAM[1:]]
    total = sum(HISTOGRAM)
    rates = []
    for _ in range(count):
        if rng.random() * total < NEVER_SOLVED:
            rates.append(0.0)
            continue
        b = rng.choices(range(len(weights)), weights)[0]
        rates.append(rng.uniform(b / len(weights), (b + 1) / len(weights)))
    return rates


def populations(count: int, total: int, k: int, first_seed: int = 0) -> list[tuple[Draws, Draws]]:
    """`k` seeded populations of `count` samples: two independent sets of `total` draws from
    the same shaped pass rates (the second measures full-L scoring's own run-to-run noise)."""
    out = []
    for seed in range(first_seed, first_seed + k):
        rng = random.Random(seed)
        rates = shaped_rates(rng, count)

        def draw(rates: list[float] = rates, rng: random.Random = rng) -> Draws:
            return [
                (f"s{i:04d}", [rng.random() < p for _ in range(total)]) for i, p in enumerate(rates)
            ]

        out.append((draw(), draw()))
    return out


def simulate(
    pops: list[tuple[Draws, Draws]],
    total: int,
    m: int,
    round_size: int,
    delta: float,
    target: float,
) -> dict[str, float]:
    """synthrl's rule (round_size, delta) on every population against full-L: mean and lowest
    ratio and Jaccard, and the share of populations meeting both targets."""
    from synthrl.scoring import update_stops

    def rule(tallies: list, total: int, m: int) -> None:
        update_stops(tallies, total, m, delta)

    ratios, jaccards = [], []
    for draws, _ in pops:
        full_cost, full_selected = replay(draws, total, m, None, total)
        cost, selected = replay(draws, total, m, rule, round_size)
        ratios.append(full_cost / cost)
        jaccards.append(overlap(selected, full_selected))
    both = [r >= target and j >= TARGET_JACCARD for r, j in zip(ratios, jaccards, strict=True)]
    return {
        "ratio": float(np.mean(ratios)),
        "ratio_low": min(ratios),
        "jaccard": float(np.mean(jaccards)),
        "jaccard_low": min(jaccards),
        "both": float(np.mean(both)),
    }


def noise_floor(pops: list[tuple[Draws, Draws]], total: int, m: int) -> tuple[float, float]:
    """Full-L against a fresh full-L run of the same population: (mean, lowest) Jaccard."""
    found = [
        overlap(replay(a, total, m, None, total)[1], replay(b, total, m, None, total)[1])
        for a, b in pops
    ]
    return float(np.mean(found)), min(found)


def choose(count: int, total: int, k: int, target: float) -> tuple[int, float]:
    """Print the grid over `score.round_size` x `score.delta` on `k` shaped populations; return
    the setting that meets both targets in the largest share of them (ties: the higher ratio)."""
    m = count // 2
    pops = populations(count, total, k)
    mean, low = noise_floor(pops, total, m)
    print(
        f"\n{k} simulated populations shaped like the real histogram {HISTOGRAM}, {count} samples,"
    )
    print(
        f"L={total}, M={m}; full-L vs a fresh full-L run: Jaccard {mean:.3f} (lowest {low:.3f})\n"
    )
    print("| round size | delta | completions ratio (lowest) | Jaccard (lowest) | meets both |")
    print("|---:|---:|---:|---:|---:|")
    best: tuple[float, float, int, float] = (-1.0, 0.0, 0, 0.0)
    for size in GRID_ROUND_SIZES:
        for delta in GRID_DELTAS:
            s = simulate(pops, total, m, size, delta, target)
            print(
                f"| {size} | {delta:g} | {s['ratio']:.2f} ({s['ratio_low']:.2f}) "
                f"| {s['jaccard']:.3f} ({s['jaccard_low']:.3f}) | {s['both']:.2f} |"
            )
            best = max(best, (s["both"], s["ratio"], size, delta))
    print(f"\nchosen: round_size {best[2]}, delta {best[3]:g} (meets both in {best[0]:.0%})")
    return best[2], best[3]


STATE = ROOT / "bench" / "data"
SAVE_EVERY_S = 300.0


@contextlib.contextmanager
def kept(cache_path: Path, state: Path, every: float = SAVE_EVERY_S) -> Iterator[Path]:
    """The call cache at `cache_path`, mirrored in `state` (JSON lines in the repository): the
    entries the state holds are added first, and the cache is written back every `every`
    seconds and on leaving (also on an error or ^C), so hours of paid draws survive the machine
    once the state file is committed."""
    from synthrl.llm import CallCache

    cache = CallCache(cache_path)
    added = cache.load(state)
    if added:
        print(f"{state.relative_to(ROOT)}: {added} cached calls restored", flush=True)
    stop = threading.Event()

    def save() -> None:
        while not stop.wait(every):
            cache.dump(state)

    saver = threading.Thread(target=save, daemon=True)
    saver.start()
    try:
        yield cache_path
    finally:
        stop.set()
        saver.join()
        cache.dump(state)
        cache.close()


def ensure_synthetic_set(run_dir: Path, initial: int) -> list[dict]:
    """Run the pipeline to `adapt` with `initial` samples (stages already run with these
    settings are skipped and every model call is cached, in the run directory's own cache kept
    in bench/data/) and return its samples."""
    from synthrl.artifacts import RunDir

    command = [
        sys.executable,
        "-m",
        "synthrl.cli",
        "run",
        str(ROOT / "examples/tasks/gsm8k.yaml"),
        "--preset",
        "cpu",
        "--out",
        str(run_dir),
        "--to",
        "adapt",
        "--set",
        f"generate.n={initial}",
        "--set",
        "keywords.count=12",
        "--cache",
        str(run_dir / "calls.sqlite"),
    ]
    with kept(run_dir / "calls.sqlite", STATE / run_dir.name / "pipeline-calls.jsonl"):
        subprocess.run(command, check=True)
    return RunDir(run_dir).rows("adapt", "samples.jsonl")


def shipped_rule(quick: bool, total: int, max_tokens: int) -> ScoreConfig:
    """The ScoreConfig a user gets: the `paper` preset's (the field defaults) with adaptive
    scoring on, or with --quick the `cpu` preset's round size and delta."""
    from synthrl.presets import PRESETS

    chosen = {k: v for k, v in PRESETS["cpu"]["score"].items() if k in ("round_size", "delta")}
    return ScoreConfig(
        samples=total,
        temperature=0.7,
        max_tokens=max_tokens,
        adaptive=True,
        **(chosen if quick else {}),
    )


def synthetic_set(args: argparse.Namespace, count: int) -> tuple[Path, list[dict]]:
    """(run directory, its first `count` adapted samples): --run's, or the bench's own."""
    from synthrl.artifacts import RunDir

    if args.run:
        return args.run, RunDir(args.run).rows("adapt", "samples.jsonl")[:count]
    run_dir = ROOT / "runs" / ("bench-scoring-quick" if args.quick else "bench-scoring")
    # about 2 in 3 generated samples survive the vote, and adaptation adds about 2 for every 3:
    # `count` initial samples make a little more than `count` in all
    return run_dir, ensure_synthetic_set(run_dir, initial=max(8, count + count // 10))[:count]


def score_both(llm: LLM, samples: list[dict], rule: ScoreConfig, m: int) -> dict[str, tuple]:
    """Full-L, then the rule, on the same cached draws: (score rows, selected ids, seconds,
    usage) by scorer."""
    from synthrl.scoring import select_top
    from synthrl.stages.score import score_samples
    from synthrl.task import load_task

    task = load_task(ROOT / "examples/tasks/gsm8k.yaml")
    full = rule.model_copy(update={"adaptive": False})
    rows = {}
    for name, cfg in (("full-L (paper eq. 7)", full), ("adaptive (synthrl)", rule)):
        started = time.perf_counter()

        def generate(requests: list, desc: str, stage: str = name) -> list:
            return llm.generate(requests, stage=stage, desc=desc)

        scored = score_samples(generate, task, samples, cfg, m, 0)
        wall = time.perf_counter() - started
        table = [(s["id"], s["correct"], s["attempts"]) for s in scored]
        selected = {r.id for r in select_top(table, m) if r.selected}
        rows[name] = (scored, selected, wall, llm.ledger.by_stage(name))
    return rows


def real_draws(
    args: argparse.Namespace, count: int, total: int, rule: ScoreConfig
) -> tuple[float, float, list[str]]:
    """Full-L and the shipped rule on the base model's real draws (cached per draw): print the
    table; return (completions ratio, Jaccard, lines to print after it)."""
    from synthrl.config import LLMConfig
    from synthrl.llm import CallCache, Ledger, open_backend
    from synthrl.scoring import histogram

    run_dir, samples = synthetic_set(args, count)
    if len(samples) < count:
        print(f"note: the synthetic set has {len(samples)} samples, fewer than {count}")
    m = max(1, len(samples) // 2)
    cache = run_dir / f"bench-cache-{args.max_tokens}.sqlite"
    backend = open_backend("embedded:base", LLMConfig(context=2048))
    state = STATE / run_dir.name / f"draws-{args.max_tokens}.jsonl"
    with kept(cache, state) if not args.run else contextlib.nullcontext(cache):
        llm = LLM(backend, CallCache(cache), Ledger(), "embedded:base")
        rows = score_both(llm, samples, rule, m)
    full_scored, full_sel, full_wall, full_usage = rows["full-L (paper eq. 7)"]
    rate = seconds_per_token(cache, full_wall, full_usage.completion_tokens)
    print(
        f"\nreal draws: {len(samples)} synthetic GSM8K samples ({run_dir}), L={total}, M={m}, "
        f"max_tokens={args.max_tokens}, embedded base (Qwen2.5-Coder-0.5B Q4_K_M), "
        f"batched llama.cpp sampling\n"
    )
    print(
        "| scorer | completions | completion tokens | est. seconds | selected overlap (Jaccard) |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, (scored, selected, _, _) in rows.items():
        completions = sum(s["attempts"] for s in scored)
        tokens = sum(s["completion_tokens"] for s in scored)
        seconds = f"{tokens * rate:.0f}" if rate else "cached"
        jaccard = overlap(selected, full_sel)
        print(f"| {name} | {completions} | {tokens:,} | {seconds} | {jaccard:.3f} |")
    fast_scored, fast_sel = rows["adaptive (synthrl)"][:2]
    drawn = sum(s["attempts"] for s in fast_scored)
    ratio = sum(s["attempts"] for s in full_scored) / max(1, drawn)
    solved = sum(s["correct"] > 0 for s in full_scored)
    stops = Counter(s["stopped"] or "ran all L" for s in fast_scored)
    generated = full_usage.completion_tokens
    notes = [
        f"pass rates (full-L): {solved} of {len(full_scored)} samples ever solved; histogram "
        f"{histogram([s['pass_rate'] for s in full_scored])} (10 bins over [0, 1])",
        f"adaptive stops: {dict(stops)}",
        f"full scoring generated {generated:,} tokens in {full_wall:.0f} s; "
        f"{full_usage.cache_hits} completions came from {cache.name} (seconds at the rate "
        "measured when they were drawn)",
    ]
    return ratio, overlap(fast_sel, full_sel), notes


def seconds_per_token(cache: Path, wall: float, generated: int) -> float | None:
    """Full scoring's generation rate: measured now when it generated, else the one kept beside
    the cache when its completions were drawn (None: never measured)."""
    rate_file = cache.with_suffix(".rate.json")
    if generated:
        rate = wall / generated
        rate_file.write_text(json.dumps({"seconds_per_token": rate}))
        return rate
    if rate_file.exists():
        return float(json.loads(rate_file.read_text())["seconds_per_token"])
    return None


def simulated_table(args: argparse.Namespace, count: int, total: int, rule: ScoreConfig) -> None:
    """The shipped rule on `args.simulated` populations the choice never saw (seeds from
    `HELD_OUT`), with full-L's noise floor."""
    target = 2.0 if args.quick else 3.0
    pops, m = populations(count, total, args.simulated, HELD_OUT), count // 2
    sim = simulate(pops, total, m, rule.round_size, rule.delta, target)
    mean, low = noise_floor(pops, total, m)
    shape = f"{args.simulated} held-out populations shaped like {HISTOGRAM}"
    print(f"\nsimulated: {shape}, {count} samples, L={total}, M={m}\n")
    print("| scorer | completions ratio (lowest) | Jaccard vs full-L (lowest) | meets both |")
    print("|---|---:|---:|---:|")
    print(f"| full-L again, fresh draws (noise floor*) | 1.00 | {mean:.3f} ({low:.3f}) | |")
    name = f"round_size {rule.round_size}, delta {rule.delta:g}"
    print(
        f"| adaptive ({name}) | {sim['ratio']:.2f} ({sim['ratio_low']:.2f}) "
        f"| {sim['jaccard']:.3f} ({sim['jaccard_low']:.3f}) | {sim['both']:.0%} |"
    )
    print(
        "\n* full-L against full-L on fresh draws; the adaptive row is against full-L on the same "
        "draws (it shares their first draws), so it can agree better than the floor"
    )


def main() -> None:
    # SIGTERM ends the bench like ^C: `kept()` writes its caches' state on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 samples at L=16")
    parser.add_argument("--run", type=Path, default=None, help="a run whose adapt stage finished")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--L", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--simulated", type=int, default=50, help="simulated populations")
    parser.add_argument("--choose", action="store_true", help="print how the defaults were chosen")
    args = parser.parse_args()
    count = args.samples or (40 if args.quick else 100)
    total = args.L or (16 if args.quick else 64)
    target = 2.0 if args.quick else 3.0
    if args.simulated < 1:
        parser.error("--simulated needs at least 1 population")
    if args.choose:
        choose(count, total, args.simulated, target)
        return
    rule = shipped_rule(args.quick, total, args.max_tokens)
    simulated_table(args, count, total, rule)
    ratio, jaccard, notes = real_draws(args, count, total, rule)
    print("\n" + "\n".join(notes))
    verdict = "PASS" if ratio >= target and jaccard >= TARGET_JACCARD else "MISS"
    print(
        f"\nBENCH scoring completions_ratio={ratio:.2f} jaccard={jaccard:.3f} L={total} "
        f"target=ratio>={target:g},jaccard>={TARGET_JACCARD:g} {verdict}"
    )


if __name__ == "__main__":
    main()
