"""Zero-shot evaluation of any model spec on evaluation items with a task's prompt format and the
answer checker: strict (required format) and lenient accuracy, mean +- std over seeds, per-item
predictions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from synthrl.answers import extract, judge_many
from synthrl.evaluate.loaders import EvalItem
from synthrl.evaluate.metrics import mean_std, wilson
from synthrl.llm.base import Request
from synthrl.llm.client import LLM
from synthrl.prompts import solve_messages
from synthrl.task import Task


@dataclass(frozen=True)
class EvalSettings:
    seeds: tuple[int, ...] = (0, 1, 2)
    temperature: float = 0.0  # 0: greedy (one run suffices; seeds give identical answers)
    max_tokens: int = 512


def gold_answer(item: EvalItem, task: Task) -> str:
    """The gold answer: extracted from a worked solution (`... #### 18`), else the field as is."""
    raw = item.answer.strip()
    if "####" in raw or "\\boxed" in raw:
        return extract(raw, task.answer.kind, **options_for(item, task)) or raw
    return raw


def options_for(item: EvalItem, task: Task) -> dict[str, Any]:
    opts = task.answer.options()
    if task.answer.kind == "choice" and item.options:
        opts["options"] = dict(item.options)
        opts["letters"] = "".join(item.options)
    return opts


def evaluate(
    llm: LLM, task: Task, items: list[EvalItem], settings: EvalSettings, stage: str = "evaluate"
) -> dict[str, Any]:
    """Accuracy over seeds and per-item predictions (of every seed)."""
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
        texts = [r.texts[0] for r in llm.generate(requests, stage=stage, desc=f"eval seed {seed}")]
        lenient, strict = [], []
        for item, gold, text in zip(items, golds, texts, strict=True):
            opts = options_for(item, task)
            lenient.append(judge_many([text], gold, task.answer.kind, **opts)[0])
            strict.append(judge_many([text], gold, task.answer.kind, strict=True, **opts)[0])
        runs.append({"seed": seed, "texts": texts, "lenient": lenient, "strict": strict})
    return summarise(items, golds, runs, task)


def summarise(
    items: list[EvalItem], golds: list[str], runs: list[dict[str, Any]], task: Task
) -> dict[str, Any]:
    """Accuracy mean +- std over the runs (seeds). Per item, the share of runs that got it
    right (0 or 1 for one greedy run); the Wilson interval is that of the mean accuracy over the
    n items, i.e. it reflects which items were drawn, as the paired comparison does."""
    n = len(items)
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
        "predictions": [
            {
                "id": item.id,
                "gold": gold,
                "seed": run["seed"],
                "completion": text,
                "answer": extract(text, task.answer.kind, **options_for(item, task)),
                "correct": ok,
                "strict": st,
            }
            for run in runs
            for item, gold, text, ok, st in zip(
                items, golds, run["texts"], run["lenient"], run["strict"], strict=True
            )
        ],
        "lenient_by_item": by_item["lenient"],
        "strict_by_item": by_item["strict"],
    }
