"""Passages for a list of keywords (paper 4.1, eq. 2): the top BM25 hits of each keyword,
de-duplicated, taken round-robin over the keywords so that generation sees every keyword's
knowledge rather than the first keyword's top ten.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from synthrl.retrieval.index import Library, Passage


@dataclass(frozen=True)
class RetrievedPassage:
    """A passage found for `keyword`, at `rank` (1 = best) in that keyword's BM25 results."""

    passage: Passage
    keyword: str
    rank: int
    score: float

    def to_dict(self) -> dict[str, Any]:
        """A flat row for a JSONL artifact."""
        return {
            **self.passage.to_dict(),
            "keyword": self.keyword,
            "rank": self.rank,
            "score": round(self.score, 4),
        }


def retrieve_for_keywords(
    library: Library, keywords: Sequence[str], per_keyword: int, limit: int | None = None
) -> list[RetrievedPassage]:
    """Up to `per_keyword` distinct passages per keyword, in round-robin order.

    Round r holds each keyword's r-th new passage, so cutting the list at `limit` keeps the
    keywords evenly represented. A passage already taken (same id, or the same title and text
    after normalising case and spacing) is skipped and the keyword's next hit is used instead.
    """
    queries = _unique(library, keywords)
    if not queries or per_keyword < 1 or limit == 0:
        return []
    depth = min(len(library), per_keyword * len(queries))  # enough to refill after duplicates
    results = library.search_many(queries, depth)
    taken = [0] * len(queries)
    cursor = [0] * len(queries)
    seen: set[str] = set()
    out: list[RetrievedPassage] = []
    progressed = True
    while progressed:
        progressed = False
        for q, hits in enumerate(results):
            while taken[q] < per_keyword and cursor[q] < len(hits):
                passage, score = hits[cursor[q]]
                cursor[q] += 1
                keys = {passage.id, _text_key(passage)}
                if seen & keys:
                    continue
                seen |= keys
                out.append(RetrievedPassage(passage, queries[q], cursor[q], score))
                taken[q] += 1
                progressed = True
                if limit is not None and len(out) >= limit:
                    return out
                break
    return out


def _unique(library: Library, keywords: Sequence[str]) -> list[str]:
    """Keywords that make distinct queries ("fraction" and "Fractions" are one query)."""
    seen: set[tuple[int, ...]] = set()
    out = []
    for keyword in keywords:
        key = library.query_key(keyword)
        if key and key not in seen:
            seen.add(key)
            out.append(keyword.strip())
    return out


def _text_key(passage: Passage) -> str:
    return "text:" + re.sub(r"\s+", " ", f"{passage.title or ''}\n{passage.text}".casefold())
