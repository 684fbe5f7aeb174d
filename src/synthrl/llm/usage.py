"""Accounting: requests, cache hits, tokens, time and estimated USD per stage and model."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml

from synthrl.errors import SynthRLError

# USD per 1M tokens (input, output), list prices; extend with `llm.prices_file` (YAML:
# `model-name: {input: 2.5, output: 10}`). Models not listed (local ones) cost nothing.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}


def load_prices(path: str | Path | None) -> dict[str, tuple[float, float]]:
    """The default price table, extended by a user's YAML file."""
    prices = dict(DEFAULT_PRICES)
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


@dataclass
class Usage:
    """Counters for one (stage, model) pair."""

    requests: int = 0
    samples: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    wall_s: float = 0.0
    cost_usd: float = 0.0

    def add(self, other: Usage) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class Ledger:
    """Usage per (stage, model), priced from a table; saved as JSON in the run directory."""

    def __init__(self, prices: dict[str, tuple[float, float]] | None = None) -> None:
        self.prices = prices if prices is not None else dict(DEFAULT_PRICES)
        self.rows: dict[tuple[str, str], Usage] = {}

    def price(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        rate = self.prices.get(model) or self.prices.get(model.rsplit("/", 1)[-1])
        if rate is None:
            return 0.0
        return (prompt_tokens * rate[0] + completion_tokens * rate[1]) / 1e6

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
            counts = {f.name: row.get(f.name, 0) for f in fields(Usage)}
            ledger.record(str(row["stage"]), str(row["model"]), Usage(**counts))  # type: ignore[arg-type]
        return ledger

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2), encoding="utf-8")
