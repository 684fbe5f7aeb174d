"""Synthetic data a user can trust (issue 21): label balance and clean inputs on three tasks
written for synthrl's tests (tests/e2e/tasks), the embedded instructor, `--preset cpu`.

    .venv/bin/python bench/balance.py [--quick] [--runs DIR] [--cache FILE] [--tasks T ...]
                                      [--baseline [T ...]]

Runs `synthrl run TASK --preset cpu --to verify --set generate.n=N` (N = 30, or 9 with --quick)
for each task (a run already in DIR resumes from the call cache), then reads the artifacts:

- review3 (label: positive / negative / neutral): no label holds more than half of the verified
  samples; no kept input holds reasoning tags, the answer format or its own label;
- lease_yes_no (yes_no, 'Clause:' and 'Question:' parts): every kept input has both parts;
  neither answer holds more than 70% of the verified samples;
- science_choice (four options): every position holds a correct letter, none above 40%.

Under `--preset cpu`, `verify.max_label_share` = 0.5 drops the lowest-agreement samples of the
most common label after the vote (reason `label_share`): the table shows how many were capped
and the largest share before the cap (the verified samples plus those drops) beside the largest
share of the verified samples, which the BENCH line reports.

The obvious alternative is the paper's prompt, which names no target answer: `--baseline` (on
with --quick) runs the same tasks with `generate.balance=false` and no cap and prints the ratio
of the largest label shares (paper / balanced). Prints the counts and `BENCH balance TASK ...
PASS|MISS` lines; the targets are the issue's acceptance criteria at N >= 30 (--quick only shows
that the machinery runs).
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

ROOT = Path(__file__).resolve().parents[1]
TASKS = ROOT / "tests" / "e2e" / "tasks"
LIMITS = {"review3": 0.5, "lease_yes_no": 0.7, "science_choice": 0.4}


def run(task: str, out: Path, n: int, cache: Path, balance: bool = True) -> float:
    """Run the task through verify (balance by design and the label-share cap on, or both off:
    the paper's prompt); return the wall seconds."""
    command = [sys.executable, "-m", "synthrl.cli", "run", str(TASKS / f"{task}.yaml")]
    command += ["--preset", "cpu", "--out", str(out), "--cache", str(cache), "--to", "verify"]
    command += ["--set", f"generate.n={n}", "--set", f"generate.balance={str(balance).lower()}"]
    if not balance:  # the paper's prompt and no label-share cap (the verify of earlier runs)
        command += ["--set", "verify.max_label_share=null"]
    start = time.perf_counter()
    env = {**os.environ, "COLUMNS": "200"}
    subprocess.run(command, check=True, env=env)
    return time.perf_counter() - start


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def inspect(task_name: str, out: Path) -> dict[str, Any]:
    """The acceptance measures of one run directory."""
    from synthrl.synthesis.balance import answer_values, label_counts, largest_share
    from synthrl.synthesis.checks import (
        InputChecks,
        answer_format_in_input,
        missing_part,
        reasoning_in_input,
        states_own_answer,
    )
    from synthrl.task import load_task

    task = load_task(TASKS / f"{task_name}.yaml")
    checks = InputChecks.for_task(task)
    verified = rows(out / "verify" / "samples.jsonl")
    counts = label_counts(verified, answer_values(task))
    leaks = [
        s["id"]
        for s in verified
        if reasoning_in_input(s["input"])
        or answer_format_in_input(s["input"])
        or states_own_answer(s["input"], checks.answers, bool(checks.letters), checks.describes)
    ]
    missing = [s["id"] for s in verified if missing_part(s["input"], checks.parts, checks.letters)]
    drops: dict[str, int] = {}
    for stage in ("generate", "verify"):
        for drop in rows(out / stage / "dropped.jsonl"):
            drops[drop["reason"]] = drops.get(drop["reason"], 0) + 1
    share = largest_share(counts)
    capped = [d for d in rows(out / "verify" / "dropped.jsonl") if d["reason"] == "label_share"]
    uncapped = label_counts(verified + capped, answer_values(task))
    ok = share <= LIMITS[task_name] and not leaks and not missing
    if task_name == "science_choice":
        ok = ok and all(counts.get(letter, 0) > 0 for letter in "ABCD")
    return {
        "task": task_name,
        "verified": len(verified),
        "counts": counts,
        "largest_share": round(share, 3),
        "capped": len(capped),
        "uncapped_share": round(largest_share(uncapped), 3),
        "limit": LIMITS[task_name],
        "leaks": leaks,
        "missing_parts": missing,
        "drops": drops,
        "relabelled": sum(1 for s in verified if not s.get("generator_agrees", True)),
        "target_met": target_met(verified),
        "voted_counts": label_counts([as_voted(s) for s in verified], answer_values(task)),
        "placed": sum("before_placement" in s for s in verified),
        "pass": ok,
    }


def as_voted(sample: dict[str, Any]) -> dict[str, Any]:
    """The sample as the vote labelled it, before a choice sample's answer was moved to its
    target position (verify's `place_answer`)."""
    return {**sample, **sample.get("before_placement", {})}


def target_met(verified: list[dict[str, Any]]) -> dict[str, str]:
    """Per target answer: how many of its verified samples the vote labelled with it ("7/10"),
    as voted (before any placement)."""
    asked: dict[str, list[int]] = {}
    for sample in map(as_voted, verified):
        if sample.get("target") is not None:
            hits = asked.setdefault(str(sample["target"]), [0, 0])
            hits[0] += str(sample["label"]) == str(sample["target"])
            hits[1] += 1
    return {target: f"{met}/{total}" for target, (met, total) in sorted(asked.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="9 samples per task")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "bench-balance")
    parser.add_argument("--cache", type=Path, default=None, help="call cache (default: runs/)")
    parser.add_argument("--tasks", nargs="*", default=list(LIMITS), choices=list(LIMITS))
    parser.add_argument(
        "--baseline",
        nargs="*",
        default=None,
        choices=list(LIMITS),
        help="also run these tasks (all when none is named) with balance off, the paper's "
        "prompt, and print the ratio of the largest label shares (on by default with --quick)",
    )
    args = parser.parse_args()
    n = 9 if args.quick else 30
    cache = args.cache or args.runs / "calls.sqlite"
    baseline = args.baseline
    if baseline is None:
        baseline = list(args.tasks) if args.quick else []
    elif not baseline:
        baseline = list(args.tasks)
    results, paper = [], {}
    for name in args.tasks:
        for balance in (True, False) if name in baseline else (True,):
            out = args.runs / f"{name}-n{n}{'' if balance else '-paper'}"
            seconds = run(name, out, n, cache, balance)
            result = {**inspect(name, out), "n": n, "balance": balance, "seconds": round(seconds)}
            print(json.dumps(result))
            if balance:
                results.append(result)
            else:
                paper[name] = result
    print_table(results + list(paper.values()))
    for r in results:
        verdict = "PASS" if r["pass"] else "MISS"
        off = paper.get(r["task"])
        versus = ""
        if off:
            ratio = off["largest_share"] / r["largest_share"] if r["largest_share"] else 0.0
            versus = f"paper_prompt_share={off['largest_share']:.2f} ratio={ratio:.2f} "
        print(
            f"BENCH balance {r['task']} largest_share={r['largest_share']:.2f} {versus}"
            f"leaks={len(r['leaks'])} missing_parts={len(r['missing_parts'])} "
            f"target={r['limit']} {verdict}"
        )


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        "| task | prompt | N | verified | labels | as voted | placed | target met | capped "
        "| share before cap | largest share | limit | leaks | missing parts | minutes |"
    )
    print("|---|---|---:|---:|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        labels = ", ".join(f"{k} {v}" for k, v in r["counts"].items())
        prompt = "balanced" if r["balance"] else "paper"
        met = ", ".join(f"{k} {v}" for k, v in r["target_met"].items()) or "-"
        voted = ", ".join(f"{k} {v}" for k, v in r["voted_counts"].items())
        print(
            f"| {r['task']} | {prompt} | {r['n']} | {r['verified']} | {labels} | {voted} "
            f"| {r['placed']} | {met} | {r['capped']} | {r['uncapped_share']:.0%} "
            f"| {r['largest_share']:.0%} | {r['limit']:.0%} | {len(r['leaks'])} "
            f"| {len(r['missing_parts'])} | {r['seconds'] / 60:.1f} |"
        )


if __name__ == "__main__":
    main()
