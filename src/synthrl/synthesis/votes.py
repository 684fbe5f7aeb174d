"""Majority-vote verification of samples, shared by the `verify` stage (generated samples) and
`adapt` (the harder/easier rewrites): the instructor answers each sample k times and
`samples.apply_votes` labels it with the majority answer or drops it.

With `verify.adaptive` (ours; off in `paper`) the k votes are drawn in rounds: first as many as
the agreement bar needs (ceil(min_agreement * k)), then one at a time, and a sample stops once
the outcome of all k is settled (`synthrl.answers.vote_settled`): its label and keep/drop are
then exactly those of drawing all k, at fewer votes. Each vote is cached by its index, so a
resumed run replays the rounds it finished.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from synthrl.answers import vote_settled
from synthrl.config import VerifyConfig
from synthrl.synthesis.retry import Generate
from synthrl.synthesis.samples import apply_votes, verify_requests, vote_answers_of
from synthrl.task import Task


def verify_samples(
    generate: Generate,
    task: Task,
    cfg: VerifyConfig,
    seed: int,
    samples: Sequence[dict[str, Any]],
    desc: str = "verify",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Majority-vote labels for `samples` from the instructor `generate`: (kept, dropped)."""
    votes: list[list[str]] = [[] for _ in samples]
    cuts: list[list[bool]] = [[] for _ in samples]  # votes cut off at max_tokens
    first = max(1, math.ceil(cfg.min_agreement * cfg.k - 1e-9)) if cfg.adaptive else cfg.k
    active = list(range(len(samples)))
    while active:
        drawn = len(votes[active[0]])
        step = first if drawn == 0 else 1
        requests = [
            replace(request, n=min(step, cfg.k - drawn), first_sample=drawn)
            for request in verify_requests(
                task, [samples[i] for i in active], cfg.k, cfg.temperature, cfg.max_tokens, seed
            )
        ]
        label = desc if not cfg.adaptive else f"{desc} ({drawn}/{cfg.k} votes)"
        for i, result in zip(active, generate(requests, desc=label), strict=True):
            votes[i] += result.texts
            cuts[i] += [x.finish_reason == "length" for x in result.samples]
        active = [i for i in active if not _settled(task, samples[i], votes[i], cuts[i], cfg)]
    return apply_votes(task, samples, votes, cfg.min_agreement, cuts, cfg.check_arithmetic)


def _settled(
    task: Task, sample: dict[str, Any], texts: list[str], cuts: list[bool], cfg: VerifyConfig
) -> bool:
    if len(texts) >= cfg.k:
        return True
    answers = vote_answers_of(task, sample, texts, cuts, cfg.check_arithmetic)
    opts = task.checker_options(sample["input"])
    return vote_settled(answers, cfg.k, task.answer.kind, cfg.min_agreement, **opts)
