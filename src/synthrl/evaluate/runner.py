"""Zero-shot evaluation of any model spec on evaluation items with a task's prompt format and the
answer checker: strict (required format) and lenient accuracy, mean +- std over seeds, per-item
predictions."""

from __future__ import annotations

from typing import Any

from synthrl.answers import extract, judge_many
from synthrl.config import EvalConfig
from synthrl.evaluate.loaders import EvalItem
from synthrl.evaluate.metrics import mean_std, wilson
from synthrl.llm.base import Request
from synthrl.llm.client import LLM
from synthrl.prompts import solve_messages
from synthrl.task import Task


def gold_answer(item: EvalItem, task: Task) -> str:
    """The gold answer: extracted from a worked solution (`... #### 18`), else the field as is."""
    raw = item.answer.strip()
    if "####" in raw or "\\boxed" in raw:
        return extract(raw, task.answer.kind, **options_for(item, task)) or raw
    return raw


def options_for(item: EvalItem, task: Task) -> dict[str, Any]:
    """The checker's options for an evaluation item (its option texts and letters, if any)."""
    return task.checker_options(item.input, item.options or None)


def evaluate(
    llm: LLM, task: Task, items: list[EvalItem], settings: EvalConfig, stage: str = "evaluate"
) -> dict[str, Any]:
    """Accuracy over seeds and per-item predictions (of every seed). Greedy (temperature 0)
    makes one run: every seed would give the same answers."""
    seeds = settings.seeds[:1] if settings.temperature == 0 else settings.seeds
    golds = [gold_answer(item, task) for item in items]
    runs = []
    for seed in seeds:
        requests = [
            Request.chat(
                solve_messages(task, item.input),
                temperature=settings.temperature,
                max_tokens=settings.max_tokens,
                seed=seed,
            )
            for item in items
        ]
        results = llm.generate(requests, stage=stage, desc=f"eval seed {seed}")
        texts = [r.texts[0] for r in results]
        cuts = [r.samples[0].finish_reason == "length" for r in results]
        lenient, strict = [], []
        for item, gold, text, cut in zip(items, golds, texts, cuts, strict=True):
            opts = {**options_for(item, task), "truncated": cut}
            lenient.append(judge_many([text], gold, task.answer.kind, **opts)[0])
            strict.append(judge_many([text], gold, task.answer.kind, strict=True, **opts)[0])
        runs.append(
            {"seed": seed, "texts": texts, "cuts": cuts, "lenient": lenient, "strict": strict}
        )
    return summarise(items, golds, runs, task)


def summarise(
    items: list[EvalItem], golds: list[str], runs: list[dict[str, Any]], task: Task
) -> dict[str, Any]:
    """Accuracy mean +- std over the runs (seeds). Per item, the share of runs that got it
    right (0 or 1 for one greedy run); the Wilson interval is that of the mean accuracy over the
    n items, i.e. it reflects which items were drawn, as the paired comparison does."""
    n = len(items)
    runs = [{"cuts": [False] * n, **r} for r in runs]  # runs recorded before cuts were
    lenient = [sum(r["lenient"]) / n for r in runs]
    strict = [sum(r["strict"]) / n for r in runs]
    by_item = {
        mode: [sum(r[mode][i] for r in runs) / len(runs) for i in range(n)]
        for mode in ("lenient", "strict")
    }
    return {
        "items": n,
        "seeds": [r["seed"] for r in runs],
        "lenient_mean": mean_std(lenient)[0],
        "lenient_std": mean_std(lenient)[1],
        "strict_mean": mean_std(strict)[0],
        "strict_std": mean_std(strict)[1],
        "lenient_wilson": wilson(sum(by_item["lenient"]), n),
        "strict_wilson": wilson(sum(by_item["strict"]), n),
        "truncated_share": sum(sum(r["cuts"]) for r in runs) / (n * len(runs)),
        "predictions": [
            {
                "id": item.id,
                "gold": gold,
                "seed": run["seed"],
                "completion": text,
                "truncated": cut,
                "answer": extract(text, task.answer.kind, truncated=cut, **options_for(item, task)),
                "correct": ok,
                "strict": st,
            }
            for run in runs
            for item, gold, text, cut, ok, st in zip(
                items,
                golds,
                run["texts"],
                run["cuts"],
                run["lenient"],
                run["strict"],
                strict=True,
            )
        ],
        "lenient_by_item": by_item["lenient"],
        "strict_by_item": by_item["strict"],
    }
