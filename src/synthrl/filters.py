"""The quality filters as the stages apply them: de-duplication against the samples already kept
and a 13-gram contamination check against the evaluation files the user declares
(`quality.contamination`). Dropped samples keep the reason and what they matched."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from synthrl.config import QualityConfig
from synthrl.quality import decontaminate, deduplicate, read_eval_texts


@lru_cache(maxsize=16)
def _eval_texts(path: str) -> tuple[str, ...]:
    return tuple(read_eval_texts(Path(path)))


def quality_filter(
    new: Sequence[dict[str, Any]], existing: Sequence[dict[str, Any]], cfg: QualityConfig
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Drop new samples that duplicate an earlier one (existing or new) or overlap an eval set."""
    everything = [*existing, *new]
    dedup = deduplicate(everything, field="input", threshold=cfg.near_duplicate)
    dropped: list[dict[str, Any]] = []
    offset = len(existing)
    for drop in dedup.dropped:
        if drop.index >= offset:
            dropped.append(
                {
                    **everything[drop.index],
                    "reason": drop.reason,
                    "match": everything[drop.match]["id"],
                    "similarity": drop.score,
                }
            )
    duplicate = {drop.index - offset for drop in dedup.dropped if drop.index >= offset}
    survivors = [s for i, s in enumerate(new) if i not in duplicate]
    for path in cfg.contamination:
        texts = _eval_texts(str(Path(path).resolve()))
        check = decontaminate(survivors, texts, field="input")
        for drop in check.dropped:
            dropped.append(
                {
                    **survivors[drop.index],
                    "reason": "contamination",
                    "match": f"{path}#{drop.match}",
                    "evidence": drop.evidence,
                }
            )
        survivors = check.select(survivors)
    return survivors, dropped
