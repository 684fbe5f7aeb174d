"""Sentence embeddings from the embedded all-MiniLM-L6-v2 (CPU, local files only): the report's
similarity plots and the rewrites' drift check (`synthrl.synthesis.checks.drift`) use the same
model.

    vectors = embed(["a text", "another"])   # (2, 384), unit length: a dot product is a cosine
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=1)
def embedder() -> Any:
    """The MiniLM sentence embedder, loaded once (raises if its package is missing)."""
    from sentence_transformers import SentenceTransformer

    from synthrl.models import data_path

    return SentenceTransformer(str(data_path("minilm")), device="cpu")


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length MiniLM embeddings of `texts`, one row each."""
    vectors = embedder().encode(
        list(texts), batch_size=32, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=float)
