"""Training rows for TRL from the selected synthetic samples, or from a human-labelled file
(the paper's "RL (Same)" / "RL (Whole)" / SFT baselines).

GRPO rows: {prompt: chat messages, answer: gold, kind, letters?, options?, labels?, synonyms?}.
SFT rows:  {prompt: chat messages, completion: [assistant message with the reference solution]}.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthrl.answers import extract
from synthrl.artifacts import read_jsonl
from synthrl.errors import SynthRLError
from synthrl.prompts import solve_messages
from synthrl.samples import answer_options
from synthrl.task import Task

DEFAULT_FIELDS = {"question": "question", "answer": "answer", "solution": "answer"}


def grpo_row(task: Task, task_input: str, answer: str) -> dict[str, Any]:
    """One GRPO prompt with its gold answer and the checker's options as columns."""
    opts = answer_options(task, task_input)
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
    task: Task, path: str | Path, fields: dict[str, str], algo: str, limit: int | None = None
) -> list[dict[str, Any]]:
    """Rows from a human-labelled JSONL file; the gold answer is extracted from `answer` when it
    is a worked solution (e.g. GSM8K's '... #### 18')."""
    path = Path(path)
    if not path.is_file():
        raise SynthRLError(f"training data {path}: no such file")
    names = {**DEFAULT_FIELDS, **fields}
    rows = []
    for number, record in enumerate(read_jsonl(path), 1):
        if limit is not None and len(rows) >= limit:
            break
        missing = [names[k] for k in ("question", "answer") if names[k] not in record]
        if missing:
            raise SynthRLError(
                f"{path}:{number}: no field {missing[0]!r}; map it with train.data_fields "
                f"(fields here: {', '.join(sorted(record))})"
            )
        question, raw = str(record[names["question"]]), str(record[names["answer"]])
        if algo == "sft":
            rows.append(sft_row(task, question, str(record.get(names["solution"], raw))))
            continue
        opts = answer_options(task, question)
        gold = extract(raw, task.answer.kind, **opts) or raw.strip()
        rows.append(grpo_row(task, question, gold))
    if not rows:
        raise SynthRLError(f"training data {path} holds no rows")
    return rows
