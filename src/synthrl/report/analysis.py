"""Synthetic vs real data for the report (paper 5.6, Figs. 19-24): the task's evaluation items as
the real set, input lengths in base-model tokens (or words), and within-set pairwise cosine
similarities of MiniLM sentence embeddings (`synthrl.synthesis.embed`; CPU, local files only)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from synthrl.report.data import RunData, Unavailable

CAP = 300  # items per set for lengths and similarities


def sample(texts: Sequence[str], cap: int = CAP, seed: int = 0) -> list[str]:
    """At most `cap` texts, a fixed random subset when there are more (order kept)."""
    if len(texts) <= cap:
        return list(texts)
    keep = sorted(random.Random(seed).sample(range(len(texts)), cap))
    return [texts[i] for i in keep]


def synthetic_inputs(data: RunData) -> list[str]:
    return sample([str(s.get("input", "")) for s in data.synthetic])


def eval_items(data: RunData) -> tuple[list[Any], str]:
    """The task's evaluation items (real, human-written data; the first `CAP` unless the task
    sets a limit) and where they come from; loaded once per report."""

    def load() -> tuple[list[Any], str]:
        from synthrl.stages.evaluate import task_items

        task = data.task()
        try:
            found = task_items(task, CAP)
        except Exception as err:  # a missing benchmark folder, file or field
            raise Unavailable(f"the task's evaluation items do not load ({err})") from None
        if not found or not found[0]:
            raise Unavailable("the task declares no evaluation set (`evaluation:` in the task)")
        items, source = found
        return items, f"{Path(source).name if '/' in source else source} evaluation items"

    return data.memo("eval_items", load)


def real_inputs(data: RunData) -> tuple[list[str], str]:
    """Inputs of the evaluation items (at most `CAP`) and their source."""
    items, source = eval_items(data)
    return sample([i.input for i in items]), source


def tokenizer_file(data: RunData) -> Path | None:
    """The base model's tokenizer.json if it is on disk; never downloads or converts."""
    candidates: list[Path] = []
    try:
        started_from = data.json("train/summary.json").get("base")
        if started_from:
            candidates.append(Path(started_from) / "tokenizer.json")
    except Unavailable:
        pass
    spec = str(data.config("models", "base") or "")
    kind, _, rest = spec.partition(":")
    if kind == "embedded" and rest:
        from synthrl.paths import home

        # where synthrl.models.hf_path(rest) keeps its conversion (not triggered here: heavy)
        candidates.append(home() / "models" / f"{rest}-hf" / "tokenizer.json")
    elif kind in ("hf", "vllm") and rest:
        candidates.append(Path(rest).expanduser() / "tokenizer.json")
        cached = _hub_cached(rest)
        if cached:
            candidates.append(cached)
    return next((p for p in candidates if p.is_file()), None)


def _hub_cached(repo: str) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo, "tokenizer.json")
    except Exception:  # not a hub id, or no huggingface_hub
        return None
    return Path(found) if isinstance(found, str) else None


def length_counter(data: RunData) -> tuple[Callable[[str], int], str]:
    """A text -> length function and the unit it counts, in words."""
    path = tokenizer_file(data)
    if path is not None:
        try:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(path))
            unit = f"tokens (the base model's tokenizer, {path.parent.name}/tokenizer.json)"
            return lambda text: len(tok.encode(text, add_special_tokens=False).ids), unit
        except Exception:  # a tokenizer file this tokenizers version cannot read
            pass
    unit = "words (whitespace-separated; the base model's tokenizer.json was not found locally)"
    return lambda text: len(text.split()), unit


def pairwise_cosines(texts: Sequence[str]) -> np.ndarray:
    """Cosine similarities of every unordered pair of distinct positions in `texts`."""
    from synthrl.synthesis.embed import embed, embedder

    if len(texts) < 2:
        raise Unavailable("fewer than 2 texts: no pairs to compare")
    try:
        embedder()
    except Exception as err:  # the embedded MiniLM package missing or broken
        raise Unavailable(f"the MiniLM sentence embedder does not load ({err})") from None
    emb = embed(texts)
    sims = emb @ emb.T
    return sims[np.triu_indices(len(texts), k=1)]


def stats(values: Sequence[float]) -> dict[str, float]:
    """n, mean, median, 10th/90th percentile, min, max."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return {"n": 0}
    p10, med, p90 = np.percentile(arr, [10, 50, 90])
    return {
        "n": float(arr.size),
        "mean": float(arr.mean()),
        "median": float(med),
        "p10": float(p10),
        "p90": float(p90),
        "min": float(arr.min()),
        "max": float(arr.max()),
    }
