"""Majority-vote verification of samples, shared by the `verify` stage (generated samples) and
`adapt` (the harder/easier rewrites): the instructor answers each sample k times and
`samples.apply_votes` labels it with the majority answer or drops it.

With `verify.adaptive` (ours; off in `paper`) the k votes are drawn in rounds: first as many as
the agreement bar needs (ceil(min_agreement * k)), then one at a time, and a sample stops once
the outcome of all k is settled (`synthrl.answers.vote_settled`): its label and keep/drop are
then exactly those of drawing all k, at fewer votes. With `verify.delta` > 0 a sample also
stops once the chance that its remaining votes change that outcome is at most delta
(`synthrl.answers.vote.vote_settled_probably`), and the first round is the fewest votes that can
settle a sample so (`earliest_stop`). Each vote is cached by its index, so a resumed run replays
the rounds it finished. `votes_drawn` replays the schedule on recorded votes (bench/verify.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from synthrl.answers import Kind
from synthrl.answers.vote import earliest_stop, vote_settled_probably
from synthrl.config import VerifyConfig
from synthrl.llm.base import Request
from synthrl.synthesis.retry import Generate
from synthrl.synthesis.samples import (
    apply_votes,
    permuted_vote_requests,
    verify_requests,
    vote_answers_of,
)
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
    first = earliest_stop(cfg.k, cfg.min_agreement, cfg.delta) if cfg.adaptive else cfg.k
    active = list(range(len(samples)))
    while active:
        drawn = len(votes[active[0]])
        count = min(first if drawn == 0 else 1, cfg.k - drawn)
        per_sample = _round_requests(task, cfg, seed, [samples[i] for i in active], drawn, count)
        label = desc if not cfg.adaptive else f"{desc} ({drawn}/{cfg.k} votes)"
        results = iter(generate([r for group in per_sample for r in group], desc=label))
        for i, group in zip(active, per_sample, strict=True):
            for result in (next(results) for _ in group):
                votes[i] += result.texts
                cuts[i] += [x.finish_reason == "length" for x in result.samples]
        active = [i for i in active if not _settled(task, samples[i], votes[i], cuts[i], cfg)]
    return apply_votes(
        task, samples, votes, cfg.min_agreement, cuts, cfg.check_arithmetic, _permuted(task, cfg)
    )


def _permuted(task: Task, cfg: VerifyConfig) -> bool:
    return cfg.permute_options and task.answer.kind == "choice"


def _round_requests(
    task: Task,
    cfg: VerifyConfig,
    seed: int,
    samples: Sequence[dict[str, Any]],
    drawn: int,
    count: int,
) -> list[list[Request]]:
    """Each sample's requests for votes drawn .. drawn+count-1: one request of n = count, or,
    with permuted options (choice), one request per vote on its own rotation of the options."""
    requests = verify_requests(task, samples, cfg.k, cfg.temperature, cfg.max_tokens, seed)
    if _permuted(task, cfg):
        return [
            permuted_vote_requests(task, sample, drawn, count, request)
            for sample, request in zip(samples, requests, strict=True)
        ]
    return [[replace(request, n=count, first_sample=drawn)] for request in requests]


def _settled(
    task: Task, sample: dict[str, Any], texts: list[str], cuts: list[bool], cfg: VerifyConfig
) -> bool:
    if len(texts) >= cfg.k:
        return True
    answers = vote_answers_of(task, sample, texts, cuts, cfg.check_arithmetic, _permuted(task, cfg))
    opts = task.checker_options(sample["input"])
    kind = task.answer.kind
    return vote_settled_probably(answers, cfg.k, kind, cfg.min_agreement, cfg.delta, **opts)


def votes_drawn(
    answers: Sequence[str | None],
    kind: Kind,
    k: int,
    min_agreement: float,
    adaptive: bool,
    delta: float = 0.0,
    **opts: Any,
) -> int:
    """How many of the recorded `answers` (all k, in draw order) `verify_samples` would draw for
    one sample under these settings: its first round, then one vote at a time until settled."""
    drawn = earliest_stop(k, min_agreement, delta) if adaptive else k
    while drawn < k and not vote_settled_probably(
        answers[:drawn], k, kind, min_agreement, delta, **opts
    ):
        drawn += 1
    return drawn
