"""Text helpers for retrieval: cutting documents into word-count chunks, and BM25 tokens.

Chunks keep the document's original spacing and line breaks; a document longer than the chunk size
is cut into equal-sized chunks (250 words at size 200 -> two chunks of 125, not 200 + 50).
Tokens are lower-cased words of two or more characters, English stopwords removed, with a light
plural stemmer so that "fractions" finds "fraction".
"""

from __future__ import annotations

import math
import re

from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"\S+")
_TOKEN = re.compile(r"\w\w+")  # maximal runs of 2+ word characters (as bm25s)
STOPWORDS = frozenset(STOPWORDS_EN)


def chunk_text(text: str, chunk_words: int) -> list[str]:
    """Cut `text` into chunks of at most `chunk_words` words of near-equal size."""
    if chunk_words < 1:
        raise ValueError(f"chunk_words must be >= 1, got {chunk_words}")
    if len(text.split()) <= chunk_words:  # most documents: one chunk, no span bookkeeping
        return [text.strip()] if text.strip() else []
    spans = [m.span() for m in _WORD.finditer(text)]
    if not spans:
        return []
    count = math.ceil(len(spans) / chunk_words)
    size = math.ceil(len(spans) / count)
    return [
        text[spans[i][0] : spans[min(i + size, len(spans)) - 1][1]]
        for i in range(0, len(spans), size)
    ]


def stem(word: str) -> str:
    """A light English plural stemmer: studies -> study, boxes -> box, fractions -> fraction."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class Vocabulary:
    """Maps words to BM25 token ids (stemmed, stopwords dropped), growing while indexing."""

    def __init__(self, stems: dict[str, int] | None = None) -> None:
        self.stems: dict[str, int] = stems if stems is not None else {}
        self._words: dict[str, int] = {}  # word -> token id, or -1 for a stopword

    def ids(self, text: str, grow: bool) -> list[int]:
        """Token ids of `text`; with `grow`, new stems get new ids, else they are skipped."""
        words = _TOKEN.findall(text.lower())
        ids = list(map(self._words.get, words))
        if None in ids:  # words not seen before
            ids = [
                self._lookup(w, grow) if i is None else i for w, i in zip(words, ids, strict=True)
            ]
        return [i for i in ids if i is not None and i >= 0]

    def _lookup(self, word: str, grow: bool) -> int | None:
        if word in STOPWORDS:
            self._words[word] = -1
            return -1
        key = stem(word)
        token = self.stems.get(key)
        if token is None and grow:
            token = self.stems[key] = len(self.stems)
        if token is not None:
            self._words[word] = token
        return token
