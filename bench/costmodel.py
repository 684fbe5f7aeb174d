"""The cost model of bench/cost.py (issue 17): what a protocol spends on one model (`Cost`),
per stage (`Row`) and in all (`Measurement`); the requests adaptive rounds send; a stage's cost
from its manifest's ledger; label agreement; the BENCH line. No model is loaded here."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

PAPER_K, PAPER_L = 16, 64
PRICE_IN, PRICE_OUT = 0.15, 0.60  # gpt-4o-mini, USD per 1M input / output tokens
TARGET_INSTRUCTOR, TARGET_BASE, TARGET_AGREEMENT = 2.0, 3.0, 0.98


@dataclass
class Cost:
    """What one protocol spends on one model: requests, completions and tokens."""

    requests: float = 0.0
    completions: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(*(a + b for a, b in zip(self.values(), other.values(), strict=True)))

    def minus(self, other: Cost) -> Cost:
        """This cost less `other`, no field below 0."""
        return Cost(*(max(a - b, 0.0) for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> tuple[float, float, float, float]:
        return self.requests, self.completions, self.input_tokens, self.output_tokens

    def per_request(self) -> float:
        """Mean input tokens per request."""
        return self.input_tokens / self.requests if self.requests else 0.0

    def usd(self, price_in: float, price_out: float) -> float:
        return (self.input_tokens * price_in + self.output_tokens * price_out) / 1e6


@dataclass
class Row:
    """One stage's cost under both protocols; `source` says where the numbers come from."""

    stage: str
    role: str  # instructor | base
    paper: Cost
    ours: Cost
    source: str


@dataclass
class Measurement:
    task: Any
    selected: int
    settings: str
    min_agreement: float = 0.5
    rows: list[Row] = field(default_factory=list)
    agreement: tuple[int, int] | None = None  # (kept with the same label, the run's kept)
    votes: list[dict[str, Any]] = field(default_factory=list)  # drawn: `draw_votes`
    # (setting, instructor cost, (kept with the paper's label, kept), paper-kept samples dropped)
    what_if: list[tuple[str, Cost, tuple[int, int], int]] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def verify_rounds(drawn: int, k: int, min_agreement: float, adaptive: bool, delta: float) -> int:
    """Requests `verify_samples` sent for a sample that ended with `drawn` votes: one round of
    all k, or (adaptive) a first round of `earliest_stop` votes, then one vote per round."""
    from synthrl.answers.vote import earliest_stop

    if not adaptive:
        return 1
    return 1 + max(drawn - earliest_stop(k, min_agreement, delta), 0)


def score_rounds(attempts: int, round_size: int, adaptive: bool) -> int:
    """Requests `score_samples` sent for a sample scored with `attempts` completions."""
    return math.ceil(attempts / round_size) if adaptive else 1


def vote_cost(tokens: Sequence[int], prompt: float, drawn: int, rounds: int) -> tuple[Cost, Cost]:
    """(paper, ours) for one verified sample: `tokens` are the completion tokens of the paper's
    votes in draw order (the run's are their first `drawn`); each request pays `prompt`."""
    paper = Cost(1, len(tokens), prompt, sum(tokens))
    return paper, Cost(rounds, drawn, rounds * prompt, sum(tokens[:drawn]))


def ledger_cost(usage: Sequence[dict[str, Any]]) -> tuple[Cost, str]:
    """A stage's cost from its manifest's usage rows, and how it was known: cache hits count at
    what they cost when first drawn (the ledger's `cached_*`); a ledger older than those counters
    has no tokens for its hits, so they are scaled up from the completions drawn ("est.")."""

    def total(key: str) -> float:
        return sum(float(r.get(key) or 0) for r in usage)

    cost = Cost(*map(total, ("requests", "samples", "prompt_tokens", "completion_tokens")))
    hits = total("cache_hits")
    if not hits:
        return cost, "ledger"
    if all("cached_completion_tokens" in r for r in usage):
        cached = ("cached_requests", "cached_prompt_tokens", "cached_completion_tokens")
        requests, prompt, completion = map(total, cached)
        return cost + Cost(requests, 0, prompt, completion), f"ledger ({hits:.0f} cached)"
    if cost.completions <= hits:
        return Cost(0, cost.completions), f"ledger; tokens unknown ({hits:.0f} cache hits)"
    factor = cost.completions / (cost.completions - hits)
    scaled = Cost(
        factor * cost.requests, cost.completions, *(factor * v for v in cost.values()[2:])
    )
    return scaled, f"ledger, est. ({hits:.0f} cache hits)"


def agreement(
    ours: dict[str, str | None], paper: dict[str, str | None], same: Callable[..., bool]
) -> tuple[int, int]:
    """(the run's kept samples the paper keeps with the same label, the run's kept samples):
    `ours` and `paper` map sample ids to labels (None: dropped); `same(id, a, b)` compares."""
    kept = {sid: label for sid, label in ours.items() if label is not None}
    agree = sum(paper.get(i) is not None and same(i, label, paper[i]) for i, label in kept.items())
    return agree, len(kept)


def totals(m: Measurement, role: str) -> tuple[Cost, Cost]:
    rows = [r for r in m.rows if r.role == role]
    return sum((r.paper for r in rows), Cost()), sum((r.ours for r in rows), Cost())


def ratio(paper: float, ours: float) -> float:
    return paper / ours if ours else math.inf


def bench_line(instructor: float, base: float, agreement: tuple[int, int] | None) -> str:
    """The closing BENCH line; without drawn votes the agreement is n/a and the verdict MISS."""
    target = (
        f"target=instructor_ratio>={TARGET_INSTRUCTOR:g},base_ratio>={TARGET_BASE:g},"
        f"label_agreement>={TARGET_AGREEMENT:g}"
    )
    head = f"BENCH cost instructor_ratio={instructor:.2f} base_ratio={base:.2f}"
    if agreement is None:
        return f"{head} label_agreement=n/a estimate=yes {target} MISS"
    agree, kept = agreement
    share = agree / kept if kept else 0.0
    met = instructor >= TARGET_INSTRUCTOR and base >= TARGET_BASE and share >= TARGET_AGREEMENT
    return f"{head} label_agreement={share:.3f} {target} {'PASS' if met else 'MISS'}"
