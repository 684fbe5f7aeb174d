"""Synthetic samples: parsing the instructor's replies, answer options, and majority-vote
verification (shared by `generate`/`verify` and the rewrites of `adapt`).

A sample row: {id, input, output, origin (initial|harder|easier), parent, passage_id, ...}; after
verification it also has label, agreement, votes, parsed, reference (the instructor's solution
from the winning group) and generator_agrees.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from synthrl.answers import judge, majority_vote
from synthrl.jsonparse import parse_json_reply
from synthrl.llm.base import Request
from synthrl.prompts import solve_messages
from synthrl.task import Task

_OPTION = re.compile(r"^\s*\(?([A-Z])[).:]\s+(.+?)\s*$", re.MULTILINE)


def parse_sample(reply: str, finish_reason: str = "stop") -> tuple[dict[str, str] | None, str]:
    """{'input', 'output'} from a generator reply, or (None, reason)."""
    try:
        value = parse_json_reply(reply, dict)
    except ValueError:
        return None, "truncated_reply" if finish_reason == "length" else "not_json"
    fields = {str(k).strip().lower(): v for k, v in value.items()}
    if "input" not in fields or "output" not in fields:
        truncated = finish_reason == "length"
        return None, "truncated_reply" if truncated else "missing_input_or_output"
    sample = {key: as_text(fields[key]) for key in ("input", "output")}
    if len(sample["input"].strip()) < 10:
        return None, "empty_input"
    return sample, "ok"


def as_text(value: Any) -> str:
    """A field as plain text: structured inputs become 'Key: value' lines, lists of options
    become lettered lines ('A. ...'), as the task formats ask."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            text = as_text(item)
            lines.append(f"{key}:\n{text}" if "\n" in text else f"{key}: {text}")
        return "\n".join(lines)
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value) and 1 < len(value) <= 26:
            return "\n".join(f"{chr(65 + i)}. {as_text(v)}" for i, v in enumerate(value))
        return "\n".join(as_text(v) for v in value)
    return json.dumps(value) if value is None or isinstance(value, bool) else str(value)


def answer_options(task: Task, task_input: str) -> dict[str, Any]:
    """The answer checker's options for one input: the task's, plus option texts for `choice`."""
    opts = task.answer.options()
    if task.answer.kind == "choice":
        letters = opts["letters"]
        found = {
            m.group(1): m.group(2) for m in _OPTION.finditer(task_input) if m.group(1) in letters
        }
        if found:
            opts["options"] = found
    return opts


def verify_requests(
    task: Task,
    samples: Sequence[dict[str, Any]],
    k: int,
    temperature: float,
    max_tokens: int,
    seed: int,
) -> list[Request]:
    """k instructor answers per sample, in one request each (n=k shares the prompt)."""
    return [
        Request.chat(
            solve_messages(task, s["input"]),
            n=k,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
        )
        for s in samples
    ]


def apply_votes(
    task: Task,
    samples: Sequence[dict[str, Any]],
    completions: Sequence[list[str]],
    min_agreement: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Label each sample with its majority answer; return (kept, dropped-with-reason)."""
    kept, dropped = [], []
    kind = task.answer.kind
    for sample, texts in zip(samples, completions, strict=True):
        opts = answer_options(task, sample["input"])
        vote = majority_vote(texts, kind, min_agreement=min_agreement, **opts)
        info = {
            "agreement": round(vote.agreement, 4),
            "votes": vote.votes,
            "parsed": vote.parsed,
            "k": vote.total,
        }
        if not vote.accepted or vote.answer is None:
            if vote.parsed == 0:
                reason = "no_parseable_vote"
            elif vote.agreement < min_agreement:
                reason = "low_agreement"
            else:
                reason = "tied_vote"
            dropped.append({**sample, **info, "reason": reason, "label": vote.answer})
            continue
        winners = (t for t in texts if judge(t, vote.answer, kind, **opts))
        reference = next(winners, texts[0])
        kept.append(
            {
                **sample,
                **info,
                "label": vote.answer,
                "reference": reference,
                "generator_agrees": judge(sample["output"], vote.answer, kind, **opts),
            }
        )
    return kept, dropped
