"""Structured replies (issue 17): the generate stage's requests with the reply schema (a JSON
grammar in llama.cpp, `llm.structured`) against the same requests without it, on the real
embedded instructor.

    .venv/bin/python bench/structured.py [--quick] [--requests N]

Workload: the Figure 6 generation prompt (unchanged) of `examples/tasks/gsm8k-demos.yaml` over
the embedded library's passages for its keywords, temperature 0.7, one sample per request,
batched as the stage samples (`llm.parallel`), call cache off. The two modes alternate (plain,
schema, schema, plain) on the same seeds and each keeps its total. Per mode: seconds,
completion tokens, replies that are strict JSON (`json.loads`), replies the stage's own
tolerant parser reads on the first try (`synthrl.synthesis.samples.parse_result`: the figure
that decides whether a request is paid twice), replies cut at max_tokens, and grammar redraws
(tokens the lazy grammar check rejected and drew again). Prints a table and `BENCH structured
first_try=X plain_first_try=Y time_ratio=Z target=first_try>=0.95,time_ratio>=0.8 PASS|MISS`
(`time_ratio`: plain seconds over schema seconds; higher is better, 1 = same cost).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_FIRST_TRY, TARGET_TIME = 0.95, 0.8


def requests(count: int, max_tokens: int, with_schema: bool) -> list[Any]:
    from synthrl.llm import Request
    from synthrl.prompts import generate_messages
    from synthrl.retrieval import open_library
    from synthrl.synthesis.reply_schemas import SAMPLE
    from synthrl.task import load_task

    task = load_task(ROOT / "examples" / "tasks" / "gsm8k-demos.yaml")
    library = open_library(task.library, 200, progress=False, base_dir=task.base_dir)
    queries = ["arithmetic", "money", "farm", "distance", "shopping", "time", "recipe", "school"]
    passages = [p for hits in library.search_many(queries, 4) for p, _ in hits]
    return [
        Request.chat(
            generate_messages(task, f"{p.title}: {p.text}", None),
            temperature=0.7,
            max_tokens=max_tokens,
            seed=i,
            schema=SAMPLE if with_schema else None,
        )
        for i, p in zip(range(count), passages * count, strict=False)
    ]


def measure(llm: Any, batch: list[Any], redraws: list[int]) -> dict[str, float]:
    from synthrl.synthesis.samples import parse_result

    redraws[0] = 0
    started = time.perf_counter()
    results = llm.generate(batch, stage="bench")
    seconds = time.perf_counter() - started
    samples = [r.samples[0] for r in results]

    def strict(text: str) -> bool:
        try:
            return isinstance(json.loads(text), dict)
        except ValueError:
            return False

    return {
        "seconds": seconds,
        "tokens": sum(s.completion_tokens for s in samples),
        "strict": sum(strict(s.text) for s in samples),
        "parsed": sum(parse_result(r)[0] is not None for r in results),
        "cut": sum(s.finish_reason == "length" for s in samples),
        "redraws": redraws[0],
        "replies": len(samples),
    }


def counting_redraws() -> list[int]:
    """Count the lazy grammar's redraws (llamacpp_batch.BatchedSampler._redraw)."""
    from synthrl.llm import llamacpp_batch

    count = [0]
    original = llamacpp_batch.BatchedSampler._redraw

    def redraw(self: Any, seq: Any, logits: Any) -> int:
        count[0] += 1
        return original(self, seq, logits)

    llamacpp_batch.BatchedSampler._redraw = redraw  # type: ignore[method-assign]
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 requests, 192 tokens")
    parser.add_argument("--requests", type=int, default=16)
    args = parser.parse_args()
    count, max_tokens = (4, 192) if args.quick else (args.requests, 320)

    from synthrl.config import LLMConfig
    from synthrl.llm import LLM, Ledger, open_backend
    from synthrl.models import prepare_gguf

    prepare_gguf("instructor")
    redraws = counting_redraws()
    backend = open_backend("embedded:instructor", LLMConfig(context=4096, threads=2))
    llm = LLM(backend, None, Ledger(), "embedded:instructor", show_progress=False)
    totals: dict[str, dict[str, float]] = {"plain": {}, "schema": {}}
    try:
        for mode in ("plain", "schema", "schema", "plain"):
            batch = requests(count, max_tokens, mode == "schema")
            for key, value in measure(llm, batch, redraws).items():
                totals[mode][key] = totals[mode].get(key, 0) + value
    finally:
        backend.close()
    report(totals, count, max_tokens)


def report(totals: dict[str, dict[str, float]], count: int, max_tokens: int) -> None:
    print(f"\n{count} generate requests x 2 passes per mode, max_tokens {max_tokens}\n")
    columns = "mode | replies | seconds | tokens | tok/s | strict JSON | parsed first try | cut"
    print(f"| {columns} | redraws |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode, t in totals.items():
        n = t["replies"]
        print(
            f"| {mode} | {n:.0f} | {t['seconds']:.1f} | {t['tokens']:.0f} | "
            f"{t['tokens'] / t['seconds']:.1f} | {t['strict'] / n:.0%} | {t['parsed'] / n:.0%} | "
            f"{t['cut']:.0f} | {t['redraws']:.0f} |"
        )
    first = totals["schema"]["parsed"] / totals["schema"]["replies"]
    plain = totals["plain"]["parsed"] / totals["plain"]["replies"]
    ratio = totals["plain"]["seconds"] / totals["schema"]["seconds"]
    verdict = "PASS" if first >= TARGET_FIRST_TRY and ratio >= TARGET_TIME else "MISS"
    print(
        f"\nBENCH structured first_try={first:.2f} plain_first_try={plain:.2f} "
        f"time_ratio={ratio:.2f} target=first_try>={TARGET_FIRST_TRY},"
        f"time_ratio>={TARGET_TIME} {verdict}"
    )


if __name__ == "__main__":
    main()
