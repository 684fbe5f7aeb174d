"""Accounting: requests, cache hits, tokens, time and estimated USD per stage and model.

Prices (USD per 1M tokens) come from the user's `llm.prices_file` (YAML:
`model-name: {input: 2.5, output: 10}`) first, then from genai-prices' maintained table for the
provider a backend calls (the official OpenAI API, or a provider known by its URL). Models that
run on this machine cost nothing; any other model whose price is not found is *unpriced*: its
tokens are counted in `unpriced_tokens` and its cost shows as unknown, never as $0.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from synthrl.errors import SynthRLError


def load_prices(path: str | Path | None) -> dict[str, tuple[float, float]]:
    """The user's price file as {model: (input USD/1M, output USD/1M)} ({} without one)."""
    prices: dict[str, tuple[float, float]] = {}
    if path is None:
        return prices
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        for model, row in data.items():
            prices[str(model)] = (float(row["input"]), float(row["output"]))
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise SynthRLError(
            f"{path}: cannot read prices ({err}). "
            "Write `MODEL: {input: USD_PER_1M, output: USD_PER_1M}`."
        ) from None
    return prices


def table_price(
    model: str, prompt_tokens: int, completion_tokens: int, provider: dict[str, str]
) -> float | None:
    """USD from genai-prices' table for `model` at `provider` (`provider_id` or
    `provider_api_url`); None when the table does not know the model there."""
    try:
        from genai_prices import Usage as PriceUsage
        from genai_prices import calc_price
    except ImportError:  # pragma: no cover - a core dependency
        return None
    usage = PriceUsage(input_tokens=prompt_tokens, output_tokens=completion_tokens)
    try:
        return float(calc_price(usage, model_ref=model, **provider).total_price)
    except LookupError:
        return None


def format_usd(cost: float, unpriced_tokens: int = 0) -> str:
    """`$0.0123`; `unknown` when no token was priced; `$0.0123 + unknown` when some were not."""
    if unpriced_tokens and not cost:
        return "unknown"
    text = f"${cost:.4f}"
    return f"{text} + unknown" if unpriced_tokens else text


@dataclass
class Usage:
    """Counters for one (stage, model) pair."""

    requests: int = 0
    samples: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    wall_s: float = 0.0
    cost_usd: float = 0.0  # of the priced tokens
    unpriced_tokens: int = 0  # tokens of models with no known price (cost unknown)
    # what the cache hits cost when they were first drawn (not paid again): the completion
    # tokens of every cached sample, and the requests and prompt tokens of the requests the
    # cache answered whole (a request partly cached pays its prompt again, counted above)
    cached_requests: int = 0
    cached_prompt_tokens: int = 0
    cached_completion_tokens: int = 0

    @property
    def usd(self) -> str:
        return format_usd(self.cost_usd, self.unpriced_tokens)

    def add(self, other: Usage) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class Ledger:
    """Usage per (stage, model), priced from the user's table, then genai-prices'; saved as JSON
    in the run directory."""

    def __init__(self, prices: dict[str, tuple[float, float]] | None = None) -> None:
        self.prices = dict(prices or {})
        self.rows: dict[tuple[str, str], Usage] = {}

    def price(
        self,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        provider: dict[str, str] | None = None,
        free: bool = False,
    ) -> float | None:
        """USD for these tokens: the user's price for `model` (or its last path part), else the
        maintained table's for `provider`; 0 for a `free` (local) model; None when unknown."""
        rate = self.prices.get(model) or self.prices.get(model.rsplit("/", 1)[-1])
        if rate is not None:
            return (prompt_tokens * rate[0] + completion_tokens * rate[1]) / 1e6
        if provider is not None:
            found = table_price(model, prompt_tokens, completion_tokens, provider)
            if found is not None:
                return found
        return 0.0 if free else None

    def record(self, stage: str, model: str, usage: Usage) -> None:
        self.rows.setdefault((stage, model), Usage()).add(usage)

    def by_stage(self, stage: str) -> Usage:
        total = Usage()
        for (row_stage, _), usage in self.rows.items():
            if row_stage == stage:
                total.add(usage)
        return total

    def total(self) -> Usage:
        total = Usage()
        for usage in self.rows.values():
            total.add(usage)
        return total

    def to_json(self) -> list[dict[str, object]]:
        return [{"stage": s, "model": m, **asdict(u)} for (s, m), u in self.rows.items()]

    @classmethod
    def from_json(cls, rows: list[dict[str, object]]) -> Ledger:
        ledger = cls()
        for row in rows:
            counts: dict[str, Any] = {f.name: row.get(f.name, 0) for f in fields(Usage)}
            ledger.record(str(row["stage"]), str(row["model"]), Usage(**counts))  # type: ignore[arg-type]
        return ledger

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")


@dataclass(frozen=True)
class Budget:
    """`llm.budget_usd` for a whole run: what earlier commands on the run spent (its usage log)
    counts against it too, so a resumed run never spends the budget twice."""

    limit_usd: float
    spent_before: float = 0.0

    def spent(self, ledger: Ledger) -> float:
        """USD spent on the run so far: earlier commands plus this command's ledger."""
        return self.spent_before + ledger.total().cost_usd
