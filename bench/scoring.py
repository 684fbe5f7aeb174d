"""Full-L pass-rate scoring (paper eq. 7) vs synthrl's adaptive scoring, on the embedded base
model and a real synthetic set made by the pipeline (embedded instructor, cached).

    .venv/bin/python bench/scoring.py [--quick] [--run runs/NAME]

Both scorers see the same completions: the call cache keys each completion by its sample index,
so adaptive scoring's first n draws are full scoring's first n, and the comparison isolates the
stopping rule (cost and selected set). Full scoring runs first and generates (batched llama.cpp
sampling, prefix-shared); adaptive scoring then replays from the cache and counts what it would
have generated; its seconds are estimated from its tokens at full scoring's measured rate. The
cache file (one per max_tokens, in the run directory) keys each completion by sample and draw
index, so a smaller setting (fewer samples, smaller L) replays a larger one's completions; the
generation rate measured when they were drawn is kept beside it for the seconds column.
`--quick` makes its own smaller synthetic set (runs/bench-scoring-quick) unless given `--run`.
Prints a table and `BENCH scoring completions_ratio=... target=...
PASS|MISS` (target: >= 3x fewer completions, or >= 2x with --quick, at a selected-set Jaccard
>= 0.8).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensure_synthetic_set(run_dir: Path, initial: int) -> list[dict]:
    """Run the pipeline to `adapt` with `initial` samples (stages already run with these
    settings are skipped and every model call is cached) and return its samples."""
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
    ]
    subprocess.run(command, check=True)
    return RunDir(run_dir).rows("adapt", "samples.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 samples at L=16")
    parser.add_argument("--run", type=Path, default=None, help="a run whose adapt stage finished")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--L", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    count = args.samples or (40 if args.quick else 100)
    total = args.L or (16 if args.quick else 32)
    target = 2.0 if args.quick else 3.0

    from synthrl.artifacts import RunDir
    from synthrl.config import LLMConfig, ScoreConfig
    from synthrl.llm import LLM, CallCache, Ledger, open_backend
    from synthrl.scoring import histogram, select_top
    from synthrl.stages.score import score_samples
    from synthrl.task import load_task

    if args.run:
        run_dir = args.run
        samples = RunDir(run_dir).rows("adapt", "samples.jsonl")[:count]
    else:
        run_dir = ROOT / "runs" / ("bench-scoring-quick" if args.quick else "bench-scoring")
        # about 2 in 3 generated samples survive the vote, and adaptation adds about 2 for every
        # 3: `count` initial samples make a little more than `count` in all
        samples = ensure_synthetic_set(run_dir, initial=max(8, count + count // 10))[:count]
    if len(samples) < count:
        print(f"note: the synthetic set has {len(samples)} samples, fewer than {count}")
    task = load_task(ROOT / "examples/tasks/gsm8k.yaml")
    m = max(1, len(samples) // 2)
    ledger = Ledger()
    cache = run_dir / f"bench-cache-{args.max_tokens}.sqlite"
    rate_file = cache.with_suffix(".rate.json")
    llm = LLM(
        open_backend("embedded:base", LLMConfig(context=2048)),
        CallCache(cache),
        ledger,
        "embedded:base",
    )
    rows = {}
    for name, adaptive in (("full-L (paper eq. 7)", False), ("adaptive (synthrl)", True)):
        cfg = ScoreConfig(
            samples=total,
            temperature=0.7,
            max_tokens=args.max_tokens,
            adaptive=adaptive,
            round_size=4,
        )
        started = time.perf_counter()

        def generate(requests: list, desc: str, stage: str = name) -> list:
            return llm.generate(requests, stage=stage, desc=desc)

        scored = score_samples(generate, task, samples, cfg, m, 0)
        wall = time.perf_counter() - started
        selected = {
            r.id
            for r in select_top([(s["id"], s["correct"], s["attempts"]) for s in scored], m)
            if r.selected
        }
        rows[name] = (scored, selected, wall, ledger.by_stage(name))
    full_scored, full_sel, full_wall, full_usage = rows["full-L (paper eq. 7)"]
    generated = full_usage.completion_tokens  # tokens generated now (not from the cache)
    if generated:
        rate = full_wall / generated
        rate_file.write_text(json.dumps({"seconds_per_token": rate}))
    elif rate_file.exists():
        rate = json.loads(rate_file.read_text())["seconds_per_token"]
    else:
        rate = None
    print(
        f"\n{len(samples)} synthetic GSM8K samples ({run_dir}), L={total}, M={m}, "
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
        jaccard = len(selected & full_sel) / max(1, len(selected | full_sel))
        seconds = f"{tokens * rate:.0f}" if rate else "cached"
        print(f"| {name} | {completions} | {tokens:,} | {seconds} | {jaccard:.3f} |")
    full_n = sum(s["attempts"] for s in full_scored)
    fast_scored, fast_sel = rows["adaptive (synthrl)"][:2]
    ratio = full_n / max(1, sum(s["attempts"] for s in fast_scored))
    jaccard = len(fast_sel & full_sel) / max(1, len(fast_sel | full_sel))
    solved = sum(s["correct"] > 0 for s in full_scored)
    stops = Counter(s["stopped"] or "ran all L" for s in fast_scored)
    print(
        f"\npass rates (full-L): {solved} of {len(full_scored)} samples ever solved; "
        f"histogram {histogram([s['pass_rate'] for s in full_scored])} (10 bins over [0, 1])"
    )
    print(f"adaptive stops: {dict(stops)}")
    if generated:
        print(
            f"full scoring generated {generated:,} tokens in {full_wall:.0f} s "
            f"({generated / full_wall:.1f} tok/s); {full_usage.cache_hits} completions were cached"
        )
    else:
        print(
            f"every completion came from {cache.name} (seconds at the rate measured when they "
            "were drawn): delete it to measure generation again"
        )
    verdict = "PASS" if ratio >= target and jaccard >= 0.8 else "MISS"
    print(f"selected-set Jaccard vs full-L: {jaccard:.3f} (needs >= 0.8)")
    print(f"\nBENCH scoring completions_ratio={ratio:.2f} target={target:g} {verdict}")


if __name__ == "__main__":
    main()
