"""Fuzzed model replies through every parser that reads one: JSON samples (`jsonparse`,
`samples.parse_sample`), keywords, the majority vote (`samples.apply_votes`, with and without
the arithmetic checks of `program`), and the pattern file. Random text built from the pieces
replies are made of must never raise anything but the parsers' documented ValueError, and
hostile 1 MB replies must parse in bounded time."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthrl.stages.keywords import parse_keywords
from synthrl.synthesis.jsonparse import parse_json_reply
from synthrl.synthesis.program import arithmetic_errors, checked_vote, program_answer
from synthrl.synthesis.samples import apply_votes, parse_sample
from synthrl.task import Task

PIECES = [
    "{", "}", "[", "]", '"', "'", ",", ":", "\\", "\\n", "\\\\", "\\u00e9", "\\x", "\n", " ",
    "```json\n", "```python\n", "```", '"input"', '"output"', "'input'", "None", "True", "null",
    "1e999", "-0", "9" * 50, "$", "\\frac{1}{2}", "\\boxed{7}", "#### 12", "x = 3 * 4\n",
    "print(x)\n", "3 + 4 = 8", "12 / 0 = 1", "2 ** 99", "import os\n", "\x00", "é", "😀", "\ud7ff",
]  # fmt: skip
replies = st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=40).map("".join)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TASK = Task.model_validate(
    {
        "name": "t",
        "description": "Arithmetic word problems.",
        "output_format": "End with #### N.",
        "answer": {"kind": "number"},
    }
)


@SETTINGS
@given(reply=replies, expect=st.sampled_from([object, dict, list]))
def test_json_reply(reply: str, expect: type) -> None:
    try:
        value = parse_json_reply(reply, expect)
    except ValueError:
        return
    assert isinstance(value, expect)


@SETTINGS
@given(reply=replies, finish=st.sampled_from(["stop", "length"]))
def test_sample_reply(reply: str, finish: str) -> None:
    sample, reason = parse_sample(reply, finish)
    assert (sample is None) == (reason != "ok")
    if sample is not None:
        assert isinstance(sample["input"], str) and isinstance(sample["output"], str)


@SETTINGS
@given(reply=replies)
def test_keywords_reply(reply: str) -> None:
    assert all(isinstance(k, str) and k for k in parse_keywords(reply))


@SETTINGS
@given(votes=st.lists(replies, min_size=1, max_size=4), check=st.booleans())
def test_votes(votes: list[str], check: bool) -> None:
    sample = {"id": "s", "input": "What is 3 + 4?", "output": "#### 7"}
    kept, dropped = apply_votes(TASK, [sample], [votes], 0.5, None, check_arithmetic=check)
    assert len(kept) + len(dropped) == 1
    for vote in votes:
        program_answer(vote)
        arithmetic_errors(vote)
        checked_vote(vote, "7")


MEGABYTE = 1_000_000
HOSTILE = {
    "open brackets": "[" * MEGABYTE,
    "open braces": "{" * MEGABYTE,
    "braces and quotes": '{"' * (MEGABYTE // 2),
    "python dict openers": "{'a': " * (MEGABYTE // 6),
    "deep but closed": "[" * 50_000 + "]" * 50_000,
    "quotes": '"' * MEGABYTE,
    "backslashes": "\\" * MEGABYTE,
    "fences": "```" * (MEGABYTE // 3),
    "one long string": '{"input": "' + "a" * MEGABYTE,
    "many objects": json.dumps({"input": "x" * 20, "output": "y"}) * (MEGABYTE // 40),
    "comma lines": "a,\n" * (MEGABYTE // 3),
    "equations": "1 + 1 = 2 " * (MEGABYTE // 10),
    "program": "```python\n" + "x = x * 2\n" * (MEGABYTE // 10) + "print(x)\n```",
    "digits": "9" * MEGABYTE,
}
PARSERS = {
    "json": lambda text: _quiet(parse_json_reply, text),
    "sample": parse_sample,
    "keywords": parse_keywords,
    "vote": lambda text: apply_votes(
        TASK, [{"id": "s", "input": "3 + 4?", "output": "7"}], [[text]], 0.5, check_arithmetic=True
    ),
}
BOUND_S = 10.0  # per parser and megabyte, on 2 busy cores (measured: docs/reliability.md)


def _quiet(parse: object, text: str) -> object:
    try:
        return parse(text)  # type: ignore[operator]
    except ValueError:
        return None


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_megabyte_replies(name: str) -> None:
    text = HOSTILE[name]
    for parser, parse in PARSERS.items():
        started = time.perf_counter()
        parse(text)
        elapsed = time.perf_counter() - started
        assert elapsed < BOUND_S, f"{parser} took {elapsed:.1f} s on {name}"
