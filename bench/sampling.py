"""Sampled generation (the scoring / voting workload): synthrl's batched llama.cpp sampling vs the
obvious alternative, a plain llama-cpp-python loop drawing one completion at a time.

    .venv/bin/python bench/sampling.py [--quick]

Workload: GSM8K test questions in the task's solve prompt, n completions each at temperature
0.7 (as `score` draws them), embedded base model, 2 threads, call cache off. synthrl evaluates
each prompt once and decodes up to `llm.parallel` (16) sequences per step; the loop calls
`create_chat_completion` n times per question with the same seeds. The texts differ (batched
arithmetic rounds differently) but come from the same sampler chain; the table shows both
systems' mean completion length and lenient accuracy over all samples as a sanity check. The two
run alternately (loop, synthrl, synthrl, loop) and each keeps its total. Prints a table and
`BENCH sampling speedup=... target=2 PASS|MISS` (completion tokens per second, synthrl over the
loop).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 questions x 8 samples x 64 tokens")
    args = parser.parse_args()
    questions, n, max_tokens = (4, 8, 64) if args.quick else (16, 8, 128)
    threads = os.cpu_count() or 2

    from llama_cpp import Llama

    from synthrl.answers import judge_many
    from synthrl.evaluate import load_benchmark
    from synthrl.evaluate.runner import gold_answer
    from synthrl.llm import LLM, Ledger, Request
    from synthrl.llm.llamacpp_backend import LlamaCppBackend
    from synthrl.models import prepare_gguf
    from synthrl.prompts import solve_messages
    from synthrl.task import load_task

    task = load_task(ROOT / "examples/tasks/gsm8k.yaml")
    items = load_benchmark("gsm8k", limit=questions)
    golds = [gold_answer(item, task) for item in items]
    requests = [
        Request.chat(
            solve_messages(task, item.input), n=n, temperature=0.7, max_tokens=max_tokens, seed=0
        )
        for item in items
    ]
    path = prepare_gguf("base")
    raw = Llama(
        model_path=str(path), n_ctx=2048, n_threads=threads, n_batch=512, seed=0, verbose=False
    )
    backend = LlamaCppBackend(path, "embedded:base", n_ctx=2048, threads=threads, parallel=16)
    llm = LLM(backend, None, Ledger(), "embedded:base", show_progress=False)

    def loop(half: list[Request]) -> list[list[str]]:
        texts = []
        for request in half:
            texts.append(
                [
                    raw.create_chat_completion(
                        messages=request.message_dicts(),
                        temperature=request.temperature,
                        max_tokens=request.max_tokens,
                        seed=request.sample_seed(j),
                    )["choices"][0]["message"]["content"]
                    for j in range(request.n)
                ]
            )
        return texts

    def batched(half: list[Request]) -> list[list[str]]:
        return [result.texts for result in llm.generate(half, stage="bench")]

    totals = {"loop": [0.0, 0, []], "synthrl": [0.0, 0, []]}
    halves = [requests[: questions // 2], requests[questions // 2 :]]
    order = [("loop", loop, 0), ("synthrl", batched, 0), ("synthrl", batched, 1), ("loop", loop, 1)]
    for name, run, half in order:
        started = time.perf_counter()
        texts = run(halves[half])
        totals[name][0] += time.perf_counter() - started
        totals[name][1] += sum(
            len(raw.tokenize(t.encode(), add_bos=False)) for s in texts for t in s
        )
        totals[name][2] += texts
    raw.close()
    backend.close()

    print(
        f"\n{questions} GSM8K questions x {n} samples, temperature 0.7, max_tokens={max_tokens}, "
        f"{threads} threads, embedded base (Qwen2.5-Coder-0.5B Q4_K_M)\n"
    )
    print("| sampler | seconds | completion tokens | tokens/s | speed-up | lenient correct |")
    print("|---|---:|---:|---:|---:|---:|")
    rates = {}
    for name, (seconds, tokens, texts) in totals.items():
        rates[name] = tokens / seconds
        correct = sum(
            sum(judge_many(samples, gold, "number"))
            for samples, gold in zip(texts, golds, strict=True)
        )
        label = "llama-cpp-python loop" if name == "loop" else "synthrl batched (parallel 16)"
        print(
            f"| {label} | {seconds:.1f} | {tokens:,} | {rates[name]:.1f} | "
            f"{rates[name] / rates['loop']:.2f}x | {correct}/{questions * n} |"
        )
    speedup = rates["synthrl"] / rates["loop"]
    verdict = "PASS" if speedup >= 2 else "MISS"
    print(f"\nBENCH sampling speedup={speedup:.2f} target=2 {verdict}")


if __name__ == "__main__":
    main()
