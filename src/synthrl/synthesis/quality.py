"""Quality filters for generated samples: duplicates and benchmark contamination.

Pure functions over lists of samples (strings, or dicts whose `field` holds the text). Each
returns a `FilterResult`: the kept indices in order, and for every dropped sample the index it
matched and why. Text is normalised first: case-folded, punctuation dropped, words split on
anything that is not a letter or digit.

- `deduplicate`: "exact_duplicate" (same normalised words) or "near_duplicate" (Jaccard
  similarity of word-shingle sets >= threshold). MinHash LSH (datasketch), set below the
  threshold, finds candidates and the exact Jaccard of the shingle sets confirms them: no false
  positives, and misses are rare (~0.2% of pairs right at 0.8). The first occurrence is kept.
- `decontaminate`: "contamination" when a sample shares any word 13-gram with an evaluation
  item (the GPT-3 paper's test). Evaluation items shorter than n words (but at least
  `min_words`) count when they appear whole. `read_eval_texts` reads the items from JSONL/Parquet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from datasketch import MinHash, MinHashLSH

from synthrl.errors import SynthRLError

T = TypeVar("T")
Item = str | Mapping[str, Any]
_WORD = re.compile(r"[^\W_]+")
EVAL_FIELDS = ("question", "problem", "prompt", "input", "text")


@dataclass(frozen=True)
class Drop:
    """A dropped sample: `match` is the kept sample (duplicates) or the evaluation item
    (contamination) it matched; `score` the shingle Jaccard (duplicates) or the share of the
    sample's n-grams found in the evaluation set; `evidence` the first shared n-gram."""

    index: int
    match: int
    reason: str  # "exact_duplicate", "near_duplicate" or "contamination"
    score: float
    evidence: str = ""


@dataclass(frozen=True)
class FilterResult:
    kept: list[int]
    dropped: list[Drop]

    def counts(self) -> dict[str, int]:
        """{"kept": n, <reason>: n, ...} for a stage manifest."""
        out = {"kept": len(self.kept)}
        for drop in self.dropped:
            out[drop.reason] = out.get(drop.reason, 0) + 1
        return out

    def select(self, items: Sequence[T]) -> list[T]:
        """The kept items, in order."""
        return [items[i] for i in self.kept]


def normalize_words(text: str) -> list[str]:
    """Case-folded words, punctuation and underscores dropped."""
    return _WORD.findall(text.casefold())


def _text(item: Item, field: str, index: int) -> str:
    if isinstance(item, str):
        return item
    if field not in item:
        raise ValueError(f"sample {index} has no field {field!r} (fields: {sorted(item)})")
    value = item[field]
    return "" if value is None else str(value)


def _shingles(words: list[str], size: int) -> set[str]:
    if len(words) <= size:
        return {" ".join(words)}
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def deduplicate(
    items: Sequence[Item],
    field: str = "input",
    threshold: float = 0.8,
    num_perm: int = 128,
    shingle: int = 3,
    seed: int = 1,
) -> FilterResult:
    """Drop exact and near-duplicate samples, keeping each first occurrence."""
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    # LSH at a lower threshold finds nearly every pair at `threshold` (at 0.8: LSH at 0.55 misses
    # ~0.2% of pairs with Jaccard 0.8, LSH at 0.8 would miss 60%); exact Jaccard then decides.
    lsh = MinHashLSH(threshold=max(threshold / 2, threshold - 0.25), num_perm=num_perm)
    keys = [" ".join(normalize_words(_text(item, field, i))) for i, item in enumerate(items)]
    shingle_sets = [_shingles(key.split(" "), shingle) for key in keys]
    signatures = MinHash.generator(  # shares one set of permutations (fast)
        ([s.encode() for s in shingles] for shingles in shingle_sets), num_perm=num_perm, seed=seed
    )
    exact: dict[str, int] = {}
    sets: dict[int, set[str]] = {}
    kept: list[int] = []
    dropped: list[Drop] = []
    for i, (key, shingles, signature) in enumerate(
        zip(keys, shingle_sets, signatures, strict=True)
    ):
        if key in exact:
            dropped.append(Drop(i, exact[key], "exact_duplicate", 1.0))
            continue
        best, best_score = -1, 0.0
        for j in lsh.query(signature):
            score = len(shingles & sets[j]) / len(shingles | sets[j])
            if score > best_score or (score == best_score and j < best):
                best, best_score = j, score
        if best >= 0 and best_score >= threshold:
            dropped.append(Drop(i, best, "near_duplicate", round(best_score, 4)))
            continue
        exact[key] = i
        sets[i] = shingles
        lsh.insert(i, signature)
        kept.append(i)
    return FilterResult(kept, dropped)


def decontaminate(
    items: Sequence[Item],
    eval_texts: Sequence[str],
    field: str = "input",
    n: int = 13,
    min_words: int = 8,
) -> FilterResult:
    """Drop samples that share a word n-gram with any evaluation text."""
    table: dict[int, dict[int, int]] = {}  # n-gram length -> hash of the n-gram -> eval index
    for j, text in enumerate(eval_texts):
        words = normalize_words(text)
        size = min(n, len(words))
        if size < min(n, min_words):
            continue
        grams = table.setdefault(size, {})
        for i in range(len(words) - size + 1):
            grams.setdefault(hash(" ".join(words[i : i + size])), j)
    kept: list[int] = []
    dropped: list[Drop] = []
    for i, item in enumerate(items):
        words = normalize_words(_text(item, field, i))
        first: tuple[int, str] | None = None
        shared = total = 0
        for size, grams in table.items():
            for start in range(len(words) - size + 1):
                gram = " ".join(words[start : start + size])
                total += 1
                match = grams.get(hash(gram))
                if match is not None:
                    shared += 1
                    first = first or (match, gram)
        if first is None:
            kept.append(i)
        else:
            dropped.append(Drop(i, first[0], "contamination", round(shared / total, 4), first[1]))
    return FilterResult(kept, dropped)


def read_eval_texts(path: str | Path, fields: str | Sequence[str] | None = None) -> list[str]:
    """The texts of an evaluation file (JSONL or Parquet), one per row.

    `fields` names the field(s) to join with newlines, as a list or "context+question"; by
    default the first of question, problem, prompt, input, text that the first row has."""
    path = Path(path)
    if not path.is_file():
        raise SynthRLError(f"evaluation file {path}: no such file")
    rows = _read_rows(path)
    if isinstance(fields, str):
        fields = [f.strip() for f in fields.split("+") if f.strip()]
    texts: list[str] = []
    for number, row in rows:
        if not fields:
            fields = [next((f for f in EVAL_FIELDS if f in row), "")]
            if not fields[0]:
                raise SynthRLError(
                    f"{path}: none of the usual question fields ({', '.join(EVAL_FIELDS)}); "
                    f"name the field to read (its fields: {', '.join(sorted(row))})"
                )
        missing = [f for f in fields if f not in row]
        if missing:
            raise SynthRLError(
                f"{path}:{number}: no field {missing[0]!r} (its fields: {', '.join(sorted(row))})"
            )
        texts.append("\n".join(str(row[f]) for f in fields if row[f] is not None))
    return texts


def _read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    if path.suffix.lower() == ".parquet":
        from synthrl.evaluate.loaders import read_parquet_rows

        return list(enumerate(read_parquet_rows(path), 1))
    from synthrl.artifacts import numbered_jsonl

    return list(numbered_jsonl(path))
