"""The JSON shapes the instructor's replies are asked for, as JSON Schemas for `Request.schema`
(`llm.structured`): backends that can constrain decoding to them do, the prompts stay as they are,
and the tolerant parsers read every reply as before (`jsonparse`, `samples.parse_sample`,
`keywords.parse_keywords`, `pattern.pattern_text`).

- `keywords_schema(count)`: the keywords stage's JSON list of strings, at most `count + 20`
  items of at most 60 characters (what `parse_keywords` keeps): bounded, so a constrained
  decoder cannot list forever;
- `SAMPLE`: {input, output} strings, in that order, for `generate` and `adapt`'s rewrites (the
  demos are shown as such objects; a structured input is written as text, as `as_text` would
  flatten it);
- `PATTERN`: {pattern} string, the pattern stage's paragraph.

Strings have no length bound but the request's `max_tokens`: a reply cut there is unfinished
JSON and takes the parsers' truncation path (re-asked by `retry.ask_parsed`).
"""

from __future__ import annotations

from synthrl.llm.base import schema_text

KEYWORD_CHARS = 60  # the longest keyword `parse_keywords` keeps
EXTRA_KEYWORDS = 20  # room beyond the count asked for, for duplicates and rejects


def keywords_schema(count: int) -> str:
    """A JSON list of 1 .. count + EXTRA_KEYWORDS short strings."""
    return schema_text(
        {
            "title": "keywords",
            "type": "array",
            "items": {"type": "string", "maxLength": KEYWORD_CHARS},
            "minItems": 1,
            "maxItems": count + EXTRA_KEYWORDS,
        }
    )


SAMPLE = schema_text(
    {
        "title": "sample",
        "type": "object",
        "properties": {"input": {"type": "string"}, "output": {"type": "string"}},
        "required": ["input", "output"],
        "additionalProperties": False,
    }
)

PATTERN = schema_text(
    {
        "title": "pattern",
        "type": "object",
        "properties": {"pattern": {"type": "string"}},
        "required": ["pattern"],
        "additionalProperties": False,
    }
)
