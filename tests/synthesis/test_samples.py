"""Parsing generated samples: structured inputs flattened to the task's text format, drop
reasons, and option texts found for choice questions."""

from __future__ import annotations

import json

from synthrl.synthesis.samples import parse_sample
from synthrl.task import load_task
from tests.conftest import EXAMPLES


def test_structured_input_becomes_task_text() -> None:
    reply = json.dumps(
        {
            "Input": {
                "Context": "A passage.",
                "Question": "What follows?",
                "Options": ["Clear skies", "Rainy", "Cloudy", "Snowy"],
            },
            "output": {"think": "...", "answer": "Rainy"},
        }
    )
    sample, reason = parse_sample(reply)
    assert reason == "ok"
    assert sample["input"] == (
        "Context: A passage.\nQuestion: What follows?\nOptions:\nA. Clear skies\nB. Rainy\n"
        "C. Cloudy\nD. Snowy"
    )
    opts = load_task(EXAMPLES / "logiqa.yaml").checker_options(sample["input"])
    assert opts["options"]["B"] == "Rainy" and opts["letters"] == "ABCD"


def test_drop_reasons() -> None:
    assert parse_sample("no json at all") == (None, "not_json")
    assert parse_sample('{"question": "q", "answer": "a"}') == (None, "missing_input_or_output")
    assert parse_sample('{"input": {"Context": "long text cut', "length") == (
        None,
        "truncated_reply",
    )
    assert parse_sample('{"input": "hi", "output": "x"}') == (None, "empty_input")
