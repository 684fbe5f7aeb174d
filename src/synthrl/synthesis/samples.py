"""Synthetic samples: parsing the instructor's replies, answer options, and majority-vote
verification (shared by `generate`/`verify` and the rewrites of `adapt`).

A sample row: {id, input, output, origin (initial|harder|easier), parent, passage_id, ...}; after
verification it also has label, agreement, votes, parsed, reference (the instructor's solution
from the winning group) and generator_agrees.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from synthrl.answers import extract, judge, vote_answers
from synthrl.llm.base import Request, Result
from synthrl.prompts import solve_messages
from synthrl.synthesis.jsonparse import parse_json_reply
from synthrl.synthesis.permute import original_letter, rotated_input, rotates
from synthrl.synthesis.program import checked_vote
from synthrl.task import Task


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


def parse_result(result: Result) -> tuple[dict[str, str] | None, str]:
    """`parse_sample` of a one-sample result (for `retry.ask_parsed`)."""
    return parse_sample(result.texts[0], result.samples[0].finish_reason)


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


def permuted_vote_requests(
    task: Task, sample: dict[str, Any], first: int, count: int, request: Request
) -> list[Request]:
    """Votes first .. first+count-1 of a choice sample as one request each (n = 1), vote j on
    the options rotated by j (`synthrl.synthesis.permute`); `request` is the sample's request
    from `verify_requests`, whose sampling settings they keep."""
    letters = choice_letters(task)
    return [
        replace(
            request,
            messages=Request.chat(
                solve_messages(task, rotated_input(sample["input"], letters, j))
            ).messages,
            n=1,
            first_sample=j,
        )
        for j in range(first, first + count)
    ]


def choice_letters(task: Task) -> str:
    """A choice task's option letters, in order."""
    return task.answer.letters or "ABCD"


def vote_answers_of(
    task: Task,
    sample: dict[str, Any],
    texts: Sequence[str],
    cuts: Sequence[bool],
    check_arithmetic: bool = False,
    permuted: bool = False,
) -> list[str | None]:
    """The answer each vote gives (None: unreadable, or cut off before a closed marker), after
    the number tasks' arithmetic checks when asked. `permuted` (choice): vote j saw the options
    rotated by j; its letter is mapped back to the sample's own."""
    kind = task.answer.kind
    if permuted and kind == "choice" and rotates(sample["input"], choice_letters(task)):
        return _permuted_answers(task, sample["input"], texts, cuts)
    opts = task.checker_options(sample["input"])
    answers = [extract(t, kind, truncated=c, **opts) for t, c in zip(texts, cuts, strict=True)]
    if check_arithmetic and kind == "number":
        answers = [checked_vote(t, a) for t, a in zip(texts, answers, strict=True)]
    return answers


def _permuted_answers(
    task: Task, text: str, texts: Sequence[str], cuts: Sequence[bool]
) -> list[str | None]:
    letters, answers = choice_letters(task), []
    for j, (vote, cut) in enumerate(zip(texts, cuts, strict=True)):
        opts = task.checker_options(rotated_input(text, letters, j))
        answers.append(original_letter(extract(vote, "choice", truncated=cut, **opts), letters, j))
    return answers


def apply_votes(
    task: Task,
    samples: Sequence[dict[str, Any]],
    completions: Sequence[list[str]],
    min_agreement: float,
    truncated: Sequence[list[bool]] | None = None,
    check_arithmetic: bool = False,
    permuted: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Label each sample with its majority answer; return (kept, dropped-with-reason).
    `truncated[i][j]`: vote j of sample i was cut off at its token limit (the answer module's
    policy for cut-off completions applies). `check_arithmetic` (number tasks): votes are
    re-checked by `synthrl.synthesis.program.checked_vote`. `permuted` (choice): vote j saw the
    options rotated by j (`permuted_vote_requests`)."""
    kept, dropped = [], []
    kind = task.answer.kind
    cuts_all = truncated if truncated is not None else [[False] * len(c) for c in completions]
    for sample, texts, cuts in zip(samples, completions, cuts_all, strict=True):
        opts = task.checker_options(sample["input"])
        answers = vote_answers_of(task, sample, texts, cuts, check_arithmetic, permuted)
        vote = vote_answers(answers, kind, min_agreement, **opts)
        info = {
            "agreement": round(vote.agreement, 4),
            "votes": vote.votes,
            "parsed": vote.parsed,
            "k": vote.total,
            "truncated_votes": sum(cuts),
            "answers": answers,
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
        kept.append(
            {
                **sample,
                **info,
                "label": vote.answer,
                "reference": _reference(
                    *_unrotated(task, texts, cuts, permuted), vote.answer, kind, opts
                ),
                "generator_agrees": judge(sample["output"], vote.answer, kind, **opts),
            }
        )
    return kept, dropped


def _unrotated(
    task: Task, texts: Sequence[str], cuts: Sequence[bool], permuted: bool
) -> tuple[Sequence[str], Sequence[bool]]:
    """The votes that saw the options as written (every vote unless `permuted` choice): the
    solution kept as the sample's reference must name the options as the sample does."""
    if not (permuted and task.answer.kind == "choice"):
        return texts, cuts
    step = len(choice_letters(task))
    return texts[::step], cuts[::step]


def _reference(
    texts: Sequence[str], cuts: Sequence[bool], answer: str, kind: Any, opts: dict[str, Any]
) -> str:
    """The instructor's solution for the label: a finished winning vote, else a cut one."""
    for want_finished in (True, False):
        for text, cut in zip(texts, cuts, strict=True):
            if cut != want_finished and judge(text, answer, kind, truncated=cut, **opts):
                return text
    return texts[0]
