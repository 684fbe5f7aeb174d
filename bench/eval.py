"""Evaluation throughput: `synthrl eval` (evaluate() on the embedded base, llama.cpp backend) vs a
plain loop over llama-cpp-python on the same GSM8K test questions, greedy; answers must be
identical.

    .venv/bin/python bench/eval.py [--quick]

The two evaluators alternate over chunks of 10 questions (which one goes first alternates too), so
that drift in the machine's speed falls on both alike. Prints a table and `BENCH eval
throughput_ratio=... target=0.95 PASS|MISS` (questions per second of synthrl over the plain loop;
MISS also if any answer differs).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 questions x 128 tokens")
    args = parser.parse_args()
    count, max_tokens = (20, 128) if args.quick else (100, 256)
    threads = os.cpu_count() or 2

    from llama_cpp import Llama

    from synthrl.evaluate import EvalSettings, evaluate, load_benchmark
    from synthrl.llm import LLM, Ledger
    from synthrl.llm.llamacpp_backend import LlamaCppBackend
    from synthrl.models import prepare_gguf
    from synthrl.prompts import solve_messages
    from synthrl.task import load_task

    task = load_task(ROOT / "examples/tasks/gsm8k.yaml")
    items = load_benchmark("gsm8k", limit=count)
    path = prepare_gguf("base")

    raw = Llama(
        model_path=str(path), n_ctx=2048, n_threads=threads, n_batch=512, seed=0, verbose=False
    )
    backend = LlamaCppBackend(path, "embedded:base", n_ctx=2048, threads=threads)
    llm = LLM(backend, None, Ledger(), "embedded:base", show_progress=False)

    def run_plain(chunk: list) -> list[str]:
        return [
            raw.create_chat_completion(
                messages=solve_messages(task, item.input),
                temperature=0.0,
                max_tokens=max_tokens,
                seed=0,
            )["choices"][0]["message"]["content"]
            for item in chunk
        ]

    judged: list[dict] = []

    def run_ours(chunk: list) -> list[str]:
        summary = evaluate(llm, task, chunk, EvalSettings(seeds=(0,), max_tokens=max_tokens))
        judged.extend(summary["predictions"])
        return [p["completion"] for p in summary["predictions"]]

    # Chunks of 10 questions, the two evaluators alternating which goes first, so that drift in
    # the machine's speed (a shared 2-core box) falls on both alike.
    plain: list[str] = []
    ours: list[str] = []
    plain_s = ours_s = 0.0
    runners = [(run_plain, plain), (run_ours, ours)]
    for n, start in enumerate(range(0, count, CHUNK)):
        chunk = items[start : start + CHUNK]
        for run, out in runners if n % 2 == 0 else runners[::-1]:
            started = time.perf_counter()
            out += run(chunk)
            elapsed = time.perf_counter() - started
            if run is run_plain:
                plain_s += elapsed
            else:
                ours_s += elapsed
    raw.close()
    backend.close()

    same = sum(a == b for a, b in zip(plain, ours, strict=True))
    ratio = (count / ours_s) / (count / plain_s)
    print(
        f"\n{count} GSM8K test questions, greedy, max_tokens={max_tokens}, {threads} threads, "
        "embedded base (Qwen2.5-Coder-0.5B Q4_K_M, llama.cpp)\n"
    )
    print("| evaluator | seconds | questions/s | vs plain | identical answers |")
    print("|---|---:|---:|---:|---:|")
    print(f"| plain llama-cpp-python loop | {plain_s:.1f} | {count / plain_s:.3f} | 1.000x | - |")
    print(f"| synthrl eval | {ours_s:.1f} | {count / ours_s:.3f} | {ratio:.3f}x | {same}/{count} |")
    strict = sum(p["strict"] for p in judged) / count
    lenient = sum(p["correct"] for p in judged) / count
    print(f"\nsynthrl accuracy: strict {strict:.1%}, lenient {lenient:.1%}")
    verdict = "PASS" if ratio >= 0.95 and same == count else "MISS"
    print(f"\nBENCH eval throughput_ratio={ratio:.3f} target=0.95 {verdict}")


if __name__ == "__main__":
    main()
