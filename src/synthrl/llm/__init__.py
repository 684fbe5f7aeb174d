"""LLM backends behind one interface, the persistent call cache and usage accounting."""

from synthrl.llm.base import Backend, Request, Result, Sample
from synthrl.llm.cache import CallCache
from synthrl.llm.client import LLM
from synthrl.llm.registry import open_backend, open_llm, parse_spec
from synthrl.llm.usage import Ledger, Usage

__all__ = [
    "LLM",
    "Backend",
    "CallCache",
    "Ledger",
    "Request",
    "Result",
    "Sample",
    "Usage",
    "open_backend",
    "open_llm",
    "parse_spec",
]
