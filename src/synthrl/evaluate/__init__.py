"""Evaluation on real benchmarks: loaders, the evaluation runner and the accuracy arithmetic."""

from synthrl.evaluate.loaders import BUILTIN, EvalItem, load_benchmark, load_items
from synthrl.evaluate.metrics import bootstrap_diff, mcnemar, mean_std, wilson
from synthrl.evaluate.runner import evaluate

__all__ = [
    "BUILTIN",
    "EvalItem",
    "bootstrap_diff",
    "evaluate",
    "load_benchmark",
    "load_items",
    "mcnemar",
    "mean_std",
    "wilson",
]
