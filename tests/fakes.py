"""Scripted fake models and a tiny passage library shared by the pipeline and report tests:
questions are 'A farmer has A apples and buys B more', the answer A + B."""

from __future__ import annotations

import re

from synthrl.llm import Request

# The fake world's task: sums over PASSAGES, evaluated on eval.jsonl beside it.
ADDER_TASK = """\
name: adder
description: Solve short arithmetic word problems about sums, step by step.
output_format: "Let's think step by step and output the final answer after ####."
answer: {kind: number}
keywords: [addition]
library: {source: passages.jsonl, text_field: text, title_field: title}
evaluation: {path: eval.jsonl}
"""

PASSAGES = [
    {"title": "Fraction", "text": "A fraction represents a part of a whole, such as one half."},
    {"title": "Percentage", "text": "A percentage is a number expressed as a fraction of 100."},
    {"title": "Addition", "text": "Addition is the operation of combining two numbers into a sum."},
    {"title": "Apple", "text": "An apple is a fruit; farmers sell apples at markets by the dozen."},
]


def question(a: int, b: int) -> str:
    return f"A farmer has {a} apples and buys {b} more apples. How many apples now?"


def addends(text: str) -> tuple[int, int]:
    """The two counts of the first question in `text`."""
    a, b = map(int, re.findall(r"has (\d+) apples and buys (\d+)", text)[0])
    return a, b


def base_model(request: Request, index: int) -> str:
    """Solves sums below 10 always, sums below 100 in one sample of three, others never."""
    a, b = addends(request.messages[0][1])
    solves = a + b < 10 or (a + b < 100 and index % 3 == 0)
    return f"The answer is \\boxed{{{a + b}}}" if solves else f"#### {a + b + 1}"
