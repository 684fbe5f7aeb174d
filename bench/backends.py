"""Backend throughput on the embedded base model: raw llama-cpp-python vs synthrl's `llamacpp`
backend vs synthrl's `openai` backend against llama-cpp-python's own server on loopback.

    .venv/bin/python bench/backends.py [--quick]

Same requests (GSM8K test questions, chat, greedy) for every row; the cache is off so every
request is generated. Prints a table and `BENCH backends overhead_pct=... target=5 PASS|MISS`,
where overhead is synthrl `llamacpp` vs raw llama-cpp-python tokens per second.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_questions(count: int) -> list[str]:
    path = ROOT.parent / "shared" / "benchmarks" / "gsm8k" / "test.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["question"] for _, line in zip(range(count), fh, strict=False)]


def messages_for(question: str) -> list[dict[str, str]]:
    return [
        {
            "role": "user",
            "content": question
            + "\nLet's think step by step and output the final answer after ####.",
        }
    ]


def raw_loop(engine, questions: list[str], max_tokens: int) -> tuple[float, int, list[str]]:
    started = time.perf_counter()
    tokens, texts = 0, []
    for q in questions:
        out = engine.create_chat_completion(
            messages=messages_for(q), temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=0
        )
        tokens += out["usage"]["completion_tokens"]
        texts.append(out["choices"][0]["message"]["content"])
    return time.perf_counter() - started, tokens, texts


def synthrl_run(llm, questions: list[str], max_tokens: int) -> tuple[float, int, list[str]]:
    from synthrl.llm import Request

    requests = [Request.chat(messages_for(q), max_tokens=max_tokens) for q in questions]
    started = time.perf_counter()
    results = llm.generate(requests, stage="bench")
    elapsed = time.perf_counter() - started
    return elapsed, sum(r.completion_tokens for r in results), [r.texts[0] for r in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 requests x 24 tokens")
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2, help="alternating repeats (best kept)")
    args = parser.parse_args()
    count = args.requests or (16 if args.quick else 64)
    max_tokens = args.max_tokens or (24 if args.quick else 64)
    threads = os.cpu_count() or 2

    from llama_cpp import Llama

    from synthrl.llm import LLM, Ledger
    from synthrl.llm.llamacpp_backend import LlamaCppBackend
    from synthrl.llm.local_server import LlamaServer
    from synthrl.llm.openai_backend import OpenAIBackend
    from synthrl.models import prepare_gguf

    path = prepare_gguf("base")
    questions = load_questions(count)
    raw = Llama(
        model_path=str(path), n_ctx=2048, n_threads=threads, n_batch=512, seed=0, verbose=False
    )
    backend = LlamaCppBackend(path, "embedded:base", n_ctx=2048, threads=threads)
    ours = LLM(backend, None, Ledger(), "embedded:base", show_progress=False)
    raw_loop(raw, questions[:2], 4)  # warm both engines
    synthrl_run(ours, questions[:2], 4)
    rows = {}
    for _ in range(args.rounds):  # alternate, keep each one's best
        for name, fn in (
            ("raw llama-cpp-python", lambda: raw_loop(raw, questions, max_tokens)),
            ("synthrl llamacpp", lambda: synthrl_run(ours, questions, max_tokens)),
        ):
            elapsed, tokens, texts = fn()
            if name not in rows or elapsed < rows[name][0]:
                rows[name] = (elapsed, tokens, texts)
    raw.close()
    backend.close()
    server = LlamaServer(path, threads=threads).start()
    try:
        api = LLM(
            OpenAIBackend("base", server.url, "EMPTY", concurrency=1),
            None,
            Ledger(),
            "openai",
            False,
        )
        synthrl_run(api, questions[:2], 4)
        rows["synthrl openai (loopback server)"] = synthrl_run(api, questions, max_tokens)
    finally:
        server.stop()

    raw_tps = rows["raw llama-cpp-python"][1] / rows["raw llama-cpp-python"][0]
    print(
        f"\n{count} requests, greedy, max_tokens={max_tokens}, {threads} threads, "
        "embedded base (Qwen2.5-Coder-0.5B Q4_K_M)\n"
    )
    print("| engine | seconds | completion tokens | tokens/s | vs raw | same text as raw |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (elapsed, tokens, texts) in rows.items():
        same = sum(a == b for a, b in zip(texts, rows["raw llama-cpp-python"][2], strict=True))
        print(
            f"| {name} | {elapsed:.1f} | {tokens} | {tokens / elapsed:.1f} | "
            f"{tokens / elapsed / raw_tps:.3f}x | {same}/{count} |"
        )
    ours_tps = rows["synthrl llamacpp"][1] / rows["synthrl llamacpp"][0]
    overhead = max(0.0, (1 - ours_tps / raw_tps) * 100)
    verdict = "PASS" if overhead < 5 else "MISS"
    print(f"\nBENCH backends overhead_pct={overhead:.2f} target=5 {verdict}")


if __name__ == "__main__":
    main()
