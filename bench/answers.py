"""Answer-checker throughput per kind: synthrl's checker on one core, with the math-verify pool,
and a naive per-call math-verify loop (`verify(parse(gold), parse(completion))`), on real data.

    .venv/bin/python bench/answers.py [--quick]

Workloads (read in place from ../shared/benchmarks): `number` = GSM8K test reference solutions
in three formats (`####`, `\\boxed{}`, last number) against their gold, half of them against a
wrong gold; `math` = MATH-500 solutions against their own answer and against another problem's
answer (the wrong-answer half needs math-verify); `choice` = LogiQA/MedQA completions with
`<answer>` tags, "the answer is (X)" and option text; `yes_no`, `label`, `text` = synthetic
completions. Each math mode runs in a fresh interpreter, equally warmed up on 100 unmeasured
MATH-500 rows, then timed over one pass of 400 (math-verify's parser speeds up with everything it
has seen, so repeated passes or a shared process would flatter whichever runs later). Prints a
table and `BENCH answers number_choice_checks_per_s=... target=20000 PASS|MISS` (the slower of
`number` and `choice` on one core).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthrl.answers import equivalence, extract, judge, judge_many, mathpool

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "benchmarks"
TARGET = 20_000
NLI = ["entailment", "neutral", "contradiction"]
Row = tuple[str, str, dict[str, Any]]  # completion, gold, options


def _rows(name: str) -> list[dict[str, Any]]:
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def number_rows() -> list[Row]:
    rows: list[Row] = []
    for i, row in enumerate(_rows("gsm8k/test.jsonl")):
        solution, gold = row["answer"], row["answer"].split("#### ")[-1]
        body = solution.rsplit("####", 1)[0]
        completion = [solution, f"{body}So the answer is \\boxed{{{gold}}}.", f"{body}{gold}"][
            i % 3
        ]
        rows.append((completion, gold if i % 2 == 0 else gold + "1", {}))
    return rows


def math_rows() -> list[Row]:
    data = _rows("math500/test.jsonl")
    rows: list[Row] = []
    for i, row in enumerate(data):
        gold = row["answer"] if i % 2 == 0 else data[(i + 7) % len(data)]["answer"]
        rows.append((row["solution"], gold, {}))
    return rows


def choice_rows() -> list[Row]:
    data = _rows("logiqa/test.jsonl") + [
        {"answer": r["answer_idx"], "options": r["options"]} for r in _rows("medqa/test.jsonl")
    ]
    rows: list[Row] = []
    for i, row in enumerate(data):
        letter, options = row["answer"], row["options"]
        completion = [
            f"<think>Option A fails, so {letter} holds.</think> <answer>{letter}</answer>",
            f"Let me reason about each option.\nThe answer is ({letter}).",
            f"<think>...</think><answer>{options[letter]}</answer>",
        ][i % 3]
        rows.append((completion, "ABCD"[(i // 2) % 4] if i % 2 else letter, {"options": options}))
    return rows


def synthetic_rows(kind: str, count: int = 1000) -> list[Row]:
    rng = random.Random(0)
    rows: list[Row] = []
    for _ in range(count):
        if kind == "yes_no":
            value = rng.choice(["Yes", "No"])
            completion = f"<think>The clause says ... </think> <answer>{value}</answer>"
            rows.append((completion, rng.choice(["yes", "no"]), {}))
        elif kind == "label":
            value = rng.choice(NLI)
            completion = f"<think>The premise ... hypothesis ...</think><answer>{value}</answer>"
            rows.append((completion, rng.choice(NLI), {"labels": NLI}))
        else:
            value = rng.choice(["Paris", "the Eiffel Tower", "New York", "Marie Curie"])
            completion = f"<think>Recall ...</think> <answer>{value}.</answer>"
            rows.append((completion, rng.choice(["paris", "Eiffel Tower", "new york"]), {}))
    return rows


def rate(fn: Callable[[], Any], count: int, min_seconds: float) -> float:
    """Checks per second of `fn` (which performs `count` checks), repeated for `min_seconds`."""
    done, start = 0, time.perf_counter()
    while True:
        fn()
        done += count
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


def single(rows: list[Row], kind: str, **extra: Any) -> Callable[[], None]:
    def go() -> None:
        for completion, gold, opts in rows:
            judge(completion, gold, kind, **opts, **extra)

    return go


def batched(rows: list[Row], kind: str, **extra: Any) -> Callable[[], None]:
    def go() -> None:
        judge_many([r[0] for r in rows], [r[1] for r in rows], kind, **extra)

    return go


def naive(rows: list[Row], kind: str) -> Callable[[], None]:
    """The obvious alternative: math-verify parse + verify on every completion, one by one."""
    from math_verify import StringExtractionConfig, parse, verify

    config = [StringExtractionConfig()] if kind == "choice" else None

    def go() -> None:
        for completion, gold, _ in rows:
            if config:
                verify(parse(gold, config), parse(completion, config))
            else:
                verify(parse(f"${gold}$"), parse(completion))

    return go


def math_mode_rate(mode: str, quick: bool) -> float:
    """One math mode in this (fresh) process: the same warm-up on unmeasured rows, one timed pass.

    Each mode runs in its own interpreter, because math-verify's parser (ANTLR's DFA, sympy's
    caches) gets faster with every expression it has seen: in one process, whichever mode ran
    second would inherit the first one's warm-up. Every mode first parses all warm rows with
    math-verify, so they start equally warm (the steady state of a long-running stage)."""
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    rows = math_rows()
    measured, warm = (rows[:100], rows[400:440]) if quick else (rows[:400], rows[400:])
    make = {
        "single": lambda r: single(r, "math", use_pool=False),
        "pool": lambda r: batched(r, "math"),
        "naive": lambda r: naive(r, "math"),
    }[mode]
    naive(warm, "math")()  # the same parser warm-up for every mode: all warm rows, parsed
    if mode == "pool":
        pairs = [(extract(c, "math") or "", g) for c, g, _ in warm + warm]
        mathpool.run(pairs)  # and in the workers (each sees about half of the pairs twice)
    make(warm)()
    equivalence._cache.clear()
    start = time.perf_counter()
    make(measured)()
    return len(measured) / (time.perf_counter() - start)


def math_rates(quick: bool) -> list[float]:
    """Checks per second of each math mode, each measured in a fresh interpreter."""
    rates = []
    for mode in ("single", "pool", "naive"):
        command = [sys.executable, __file__, "--math-mode", mode] + (["--quick"] if quick else [])
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        rates.append(float(done.stdout.strip().splitlines()[-1]))
    return rates


def cold_rate(fn: Callable[[], None], count: int) -> float:
    """Checks per second of one pass of `fn` (`count` checks)."""
    start = time.perf_counter()
    fn()
    return count / (time.perf_counter() - start)


def row_line(kind: str, rows: int, one: float, pooled: float | None, slow: float | None) -> str:
    best = max(one, pooled or 0.0)
    cells = [f"{x:,.0f}" if x else "-" for x in (one, pooled, slow)]
    ratio = f"{best / slow:,.1f}x" if slow else "-"
    return f"| {kind} | {rows} | {' | '.join(cells)} | {ratio} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, shorter timing")
    parser.add_argument("--math-mode", choices=["single", "pool", "naive"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.math_mode:
        print(math_mode_rate(args.math_mode, args.quick))
        return
    logging.getLogger("math_verify").setLevel(logging.ERROR)
    seconds, size = (0.3, 200) if args.quick else (2.0, 2000)
    naive_n = 40 if args.quick else 200
    workloads = {
        "number": number_rows()[:size],
        "choice": choice_rows()[:size],
        "yes_no": synthetic_rows("yes_no"),
        "label": synthetic_rows("label"),
        "text": synthetic_rows("text"),
    }
    print(f"cores: {os.cpu_count()}, math-verify pool workers: {mathpool._worker_count()}")
    print(
        "| kind | rows | one core (checks/s) | pool batch (checks/s) | naive math-verify | ratio |"
    )
    print("|---|---|---|---|---|---|")
    rates: dict[str, float] = {}
    for kind, rows in workloads.items():
        one = rate(single(rows, kind), len(rows), seconds)
        slow = None
        if kind in ("number", "choice"):
            naive(rows[-20:], kind)()
            slow = cold_rate(naive(rows[:naive_n], kind), naive_n)
        rates[kind] = one
        print(row_line(kind, len(rows), one, None, slow))
    one, pooled, slow = math_rates(args.quick)
    print(row_line("math", 100 if args.quick else 400, one, pooled, slow))
    metric = min(rates["number"], rates["choice"])
    verdict = "PASS" if metric > TARGET else "MISS"
    print(f"\nBENCH answers number_choice_checks_per_s={metric:.0f} target={TARGET} {verdict}")


if __name__ == "__main__":
    main()
