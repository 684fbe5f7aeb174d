"""`pattern_text`: the pattern P from the instructor's reply, free text or the structured
`{"pattern": ...}` (issue 17), a structured reply cut at its token limit included."""

from __future__ import annotations

import json

import pytest

from synthrl.synthesis.pattern import pattern_text

TEXT = 'Inputs are word problems with "two" counts;\nthe output ends with #### N.'


@pytest.mark.parametrize(
    ("reply", "pattern"),
    [
        (json.dumps({"pattern": TEXT}), TEXT),
        ('  {"pattern" : "  spaced  "} ', "spaced"),
        (json.dumps({"pattern": TEXT})[:-2], TEXT),  # cut before the closing quote
        ('{"pattern": "cut mid escape \\', "cut mid escape"),
        ('{"pattern": "cut in \\u00', "cut in \\u00"),
        (f"  {TEXT}  ", TEXT),  # free text, as without a schema
        ('Inputs look like {"input": "..."}; outputs end with ####.', None),
    ],
)
def test_pattern_text(reply: str, pattern: str | None) -> None:
    assert pattern_text(reply) == (pattern if pattern is not None else reply.strip())
