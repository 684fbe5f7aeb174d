"""Rounds, groups without signal and the paper's comparisons as runs (issue 20): real CPU runs
of `examples/tasks/gsm8k.yaml --preset cpu` that differ in one setting, compared on the same
held-out GSM8K items with `synthrl compare`.

    .venv/bin/python bench/rounds.py [--quick] [--runs DIR] [--cache FILE] [--only NAME ...]

The runs (each `synthrl run ... --out DIR/NAME --cache FILE`: a run already in DIR resumes, and
they share one call cache, so the instructor's calls and the base model's probe and scoring
completions are paid once):

- r1: the cpu preset as it is (one round, `train.max_steps` 4: the paper's single pass);
- r2: `--rounds 2`, the same 4 steps split 2 + 2 (round 2 re-probes, rewrites, re-scores and
  re-selects with round 1's model and trains on from it); `rounds_evaluate` also evaluates round
  1's model (2 steps), so the report shows each round's accuracy;
- noadapt: `adapt.enabled=false` (the paper's Table 4 ablation "no difficulty adaptation");
- skip12 / noskip12: 12 steps with and without `train.skip_settled` (`settle_window` 1): with
  one prompt per step and 8 selected prompts, a prompt comes back only after the first 8 steps,
  so the cpu preset's 4 steps could never skip one; both runs sample the same number of groups.

Prints the `synthrl compare` table (reference: r1, paired McNemar tests on the same items), the
groups without signal per run (`zero_signal_share`: all completions of a group right or all
wrong by the answer checker; TRL's `frac_reward_zero_std`) and two BENCH lines:

- `BENCH rounds strict_ratio=r2/r1 ...`: target a significant gain (r2 beats r1 on strict
  accuracy, McNemar p < 0.05);
- `BENCH skip_settled zero_signal_ratio=noskip/skip ...` over the steps after the first pass (the
  only ones where skipping can act): target 2 (half the groups without signal, same compute).

--quick: 6 generated samples, 20 evaluation items, 2 steps (rounds: 1 + 1), the skip pair 8
steps: shows the machinery runs, not a result.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from synthrl.artifacts import read_jsonl

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "examples" / "tasks" / "gsm8k.yaml"
SKIP = ["--set", "train.settle_window=1"]
RUNS: dict[str, list[str]] = {
    "r1": [],
    "r2": ["--rounds", "2", "--set", "rounds_evaluate=true"],
    "noadapt": ["--set", "adapt.enabled=false"],
    "skip12": ["--set", "train.max_steps=12", *SKIP, "--set", "train.skip_settled=true"],
    "noskip12": ["--set", "train.max_steps=12", *SKIP],
}
QUICK = ["--set", "generate.n=6", "--set", "evaluate.limit=20", "--set", "train.max_steps=2"]
QUICK_PAIR = ["--set", "train.max_steps=8"]


def arguments(name: str, quick: bool) -> list[str]:
    """The variant's settings; with --quick, the tiny runs' settings first and the pair's 8 steps
    last (a later `--set` of the same field wins)."""
    if not quick:
        return RUNS[name]
    return QUICK + RUNS[name] + (QUICK_PAIR if "skip" in name else [])


def run(name: str, out: Path, cache: Path, quick: bool) -> float:
    """`synthrl run` for one variant (resumes what is there); the wall seconds."""
    command = [sys.executable, "-m", "synthrl.cli", "run", str(TASK), "--preset", "cpu"]
    command += ["--out", str(out), "--cache", str(cache), *arguments(name, quick)]
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "COLUMNS": "200"})
    return time.perf_counter() - start


def signal(out: Path) -> dict[str, Any]:
    """Groups without signal over every train stage of a run (rounds in turn), and over the
    steps after the first pass through the training rows."""
    steps, late, skipped, fallback, wall = [], [], 0, 0, 0.0
    for train in [out / "train", *sorted(out.glob("round-*/train"))]:
        manifest = json.loads((train / "manifest.json").read_text())
        count, wall = manifest["counts"]["rows"], wall + manifest.get("wall_s", 0.0)
        for m in read_jsonl(train / "metrics.jsonl"):
            if "zero_signal_share" not in m:
                continue
            steps.append(m)
            if m["step"] > count:
                late.append(m)
            skipped += m.get("skipped_prompts", 0)
            fallback += m.get("fallback_prompts", 0)

    def mean(ms: list[dict[str, Any]], key: str) -> float | None:
        values = [m[key] for m in ms if m.get(key) is not None]
        return sum(values) / len(values) if values else None

    return {
        "steps": len(steps),
        "late_steps": len(late),
        "zero_signal": mean(steps, "zero_signal_share"),
        "zero_signal_late": mean(late, "zero_signal_share"),
        "zero_std": mean(steps, "frac_reward_zero_std"),
        "skipped": skipped,
        "fallback": fallback,
        "reward": mean(steps, "reward"),
        "train_minutes": wall / 60,  # as the train stages recorded it (warm-start included)
    }


def fmt(value: float | None, pct: bool = True) -> str:
    if value is None:
        return "-"
    return f"{value:.0%}" if pct else f"{value:.3f}"


def print_signal(results: dict[str, dict[str, Any]]) -> None:
    print(
        "\n| run | steps | zero-signal groups | after the first pass | TRL zero std "
        "| skipped | fallback | mean reward | train minutes |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        late = f"{fmt(r['zero_signal_late'])} ({r['late_steps']} steps)"
        print(
            f"| {name} | {r['steps']} | {fmt(r['zero_signal'])} | {late} | {fmt(r['zero_std'])} "
            f"| {r['skipped']} | {r['fallback']} | {fmt(r['reward'], False)} "
            f"| {r['train_minutes']:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny runs: the machinery only")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "bench-rounds")
    parser.add_argument("--cache", type=Path, default=None, help="call cache (default: runs/)")
    parser.add_argument("--only", nargs="*", default=list(RUNS), choices=list(RUNS))
    args = parser.parse_args()
    runs = args.runs / "quick" if args.quick else args.runs
    cache = args.cache or runs / "calls.sqlite"
    results = {}
    for name in args.only:
        seconds = run(name, runs / name, cache, args.quick)
        results[name] = {**signal(runs / name), "seconds": seconds}
        print(json.dumps({"run": name, **results[name]}))
    from synthrl.evaluate import compare_runs as cr

    done = [runs / n for n in args.only]
    comparison = cr.compare_runs(done, "gsm8k", done[0])
    print(cr.markdown(comparison))
    print_signal(results)
    verdicts(comparison, results)


def verdicts(comparison: Any, results: dict[str, dict[str, Any]]) -> None:
    trained = {r.run: r for r in comparison.rows if r.model == "trained"}

    def strict(name: str) -> float:
        return trained[name].accuracy["strict"]["mean"] if name in trained else float("nan")

    if "r1" in trained and "r2" in trained:
        a, b = strict("r1"), strict("r2")
        t = (trained["r2"].paired or {}).get("strict", {})
        ok = bool(t) and t["wins"] > t["losses"] and t["mcnemar_p"] < 0.05
        print(
            f"BENCH rounds strict_ratio={b / a if a else float('inf'):.2f} strict_r2={b:.3f} "
            f"strict_r1={a:.3f} wins={t.get('wins')} losses={t.get('losses')} "
            f"p={t.get('mcnemar_p', float('nan')):.3g} target=significant_gain "
            f"{'PASS' if ok else 'MISS'}"
        )
    if "skip12" in results and "noskip12" in results:
        on, off = results["skip12"]["zero_signal_late"], results["noskip12"]["zero_signal_late"]
        ratio = float("nan")
        if on is not None and off is not None:
            ratio = off / on if on else (float("inf") if off else 1.0)
        print(
            f"BENCH skip_settled zero_signal_ratio={ratio:.2f} zero_signal_skip={fmt(on)} "
            f"zero_signal_noskip={fmt(off)} strict_skip={strict('skip12'):.3f} "
            f"strict_noskip={strict('noskip12'):.3f} target=2 {'PASS' if ratio >= 2 else 'MISS'}"
        )


if __name__ == "__main__":
    main()
