"""Training rows for TRL from the selected synthetic samples, or from a human-labelled file
(the paper's "RL (Same)" / "RL (Whole)" / SFT baselines).

GRPO rows: {prompt: chat messages, answer: gold, kind, letters?, options?, labels?, synonyms?,
rel_tol?, decimals?}.
SFT rows:  {prompt: chat messages, completion: [assistant message with the reference solution]}.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from synthrl.prompts import solve_messages
from synthrl.task import Task


def grpo_row(
    task: Task, task_input: str, answer: str, choices: dict[str, str] | None = None
) -> dict[str, Any]:
    """One GRPO prompt with its gold answer and the checker's options as columns."""
    opts = task.checker_options(task_input, choices)
    row: dict[str, Any] = {
        "prompt": solve_messages(task, task_input),
        "answer": str(answer),
        "kind": task.answer.kind,
    }
    if "letters" in opts:
        row["letters"] = opts["letters"]
    if "options" in opts:
        row["options"] = json.dumps(opts["options"])
    if "labels" in opts:
        row["labels"] = opts["labels"]
        row["synonyms"] = json.dumps(opts["synonyms"])
    for key in ("rel_tol", "decimals"):  # a number task's precision (`tolerance`, `decimals`)
        if key in opts:
            row[key] = opts[key]
    return row


def sft_row(task: Task, task_input: str, solution: str) -> dict[str, Any]:
    return {
        "prompt": solve_messages(task, task_input),
        "completion": [{"role": "assistant", "content": solution}],
    }


def rows_from_selected(
    task: Task, selected: list[dict[str, Any]], algo: str
) -> list[dict[str, Any]]:
    """GRPO or SFT rows from select/selected.jsonl (SFT uses the instructor's reference)."""
    if algo == "sft":
        return [sft_row(task, s["input"], s["reference"]) for s in selected]
    return [grpo_row(task, s["input"], s["label"]) for s in selected]


def rows_from_file(
    task: Task,
    source: str | Path,
    fields: dict[str, str],
    algo: str,
    limit: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Rows from a human-labelled JSONL / Parquet file or `hf:NAME[:CONFIG][@SPLIT]`, read by the
    evaluation loader (so `context` and `options` fields map too). GRPO takes the gold answer
    from `answer` (extracted from a worked solution such as GSM8K's '... #### 18'); SFT trains on
    `solution` (default: the `answer` field). `limit` takes a seeded random subset of that size
    (the paper's "RL (Same)" row); without it, every row ("RL (Whole)")."""
    from synthrl.evaluate.loaders import load_items
    from synthrl.evaluate.runner import gold_answer
    from synthrl.hfdata import is_hf, with_default_split

    names = {"question": "question", "answer": "answer", **fields}
    if algo == "sft":  # the target text: `solution` if mapped, else the answer field itself
        names["answer"] = names.get("solution", names["answer"])
    names.pop("solution", None)
    source = str(source)
    if is_hf(source):  # never the evaluation loader's default (test) split
        source = with_default_split(source, "train")
    items = load_items(source, names)
    if limit is not None and limit < len(items):
        items = random.Random(seed).sample(items, limit)
    if algo == "sft":
        return [sft_row(task, item.input, item.answer) for item in items]
    return [
        grpo_row(task, item.input, gold_answer(item, task), item.options or None) for item in items
    ]
