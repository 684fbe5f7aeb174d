"""Evaluation throughput: `synthrl eval` (evaluate() on the embedded base, llama.cpp backend) vs a
plain loop over llama-cpp-python on the same GSM8K test questions, greedy; answers must be
identical.

    .venv/bin/python bench/eval.py [--quick]

Prints a table and `BENCH eval throughput_ratio=... target=0.95 PASS|MISS` (questions per second
of synthrl over the plain loop; MISS also if any answer differs).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
    started = time.perf_counter()
    plain = [
        raw.create_chat_completion(
            messages=solve_messages(task, item.input),
            temperature=0.0,
            max_tokens=max_tokens,
            seed=0,
        )["choices"][0]["message"]["content"]
        for item in items
    ]
    plain_s = time.perf_counter() - started
    raw.close()

    backend = LlamaCppBackend(path, "embedded:base", n_ctx=2048, threads=threads)
    llm = LLM(backend, None, Ledger(), "embedded:base", show_progress=False)
    started = time.perf_counter()
    summary = evaluate(llm, task, items, EvalSettings(seeds=(0,), max_tokens=max_tokens))
    ours_s = time.perf_counter() - started
    backend.close()

    ours = [p["completion"] for p in summary["predictions"]]
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
    strict, lenient = summary["strict_mean"], summary["lenient_mean"]
    print(f"\nsynthrl accuracy: strict {strict:.1%}, lenient {lenient:.1%}")
    verdict = "PASS" if ratio >= 0.95 and same == count else "MISS"
    print(f"\nBENCH eval throughput_ratio={ratio:.3f} target=0.95 {verdict}")


if __name__ == "__main__":
    main()
