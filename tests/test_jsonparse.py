"""Tolerant JSON parsing of model replies (never eval)."""

from __future__ import annotations

import pytest

from synthrl.jsonparse import parse_json_reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"input": "q", "output": "a"}', {"input": "q", "output": "a"}),
        (
            'Here you go:\n```json\n{"input": "q", "output": "a",}\n```',
            {"input": "q", "output": "a"},
        ),
        ("{'input': 'q', 'output': \"it's\"}", {"input": "q", "output": "it's"}),
        ('prose {"a": {"b": [1, 2]}} more prose', {"a": {"b": [1, 2]}}),
        ('{"a": "brace } inside"}', {"a": "brace } inside"}),
        ("{'a': True, 'b': None}", {"a": True, "b": None}),
    ],
)
def test_parses(text: str, expected: dict) -> None:
    assert parse_json_reply(text, dict) == expected


@pytest.mark.parametrize(
    "text", ["no json here", "{unclosed", "{'a': __import__('os').system('x')}", ""]
)
def test_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_json_reply(text, dict)
