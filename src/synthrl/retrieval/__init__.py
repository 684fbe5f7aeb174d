"""Passage libraries and BM25 retrieval (paper 4.1): open a library, search it, and pick
passages for a list of keywords.

    from synthrl.retrieval import open_library, retrieve_for_keywords
    library = open_library(task.library, chunk_words=200)
    hits = retrieve_for_keywords(library, ["fraction", "percentage"], per_keyword=5)
"""

from synthrl.retrieval.index import Library, Passage, open_library
from synthrl.retrieval.retrieve import RetrievedPassage, retrieve_for_keywords
from synthrl.retrieval.text import chunk_text

__all__ = [
    "Library",
    "Passage",
    "RetrievedPassage",
    "chunk_text",
    "open_library",
    "retrieve_for_keywords",
]
