"""A request's JSON Schema as a llama.cpp grammar (GBNF), for the in-process llama.cpp engine.

The conversion is llama-cpp-python's own (`llama_cpp.llama_grammar.json_schema_to_gbnf`, 0.3.x),
which bounds whitespace between tokens to one optional space (no runaway on blanks) and turns
`maxItems` / `maxLength` into bounded repetitions. One change: its string characters admit raw
control characters (a newline inside a string), which strict JSON (`json.loads`) rejects; here
they must be escaped (`\\n`), as llama.cpp's own converter writes it. The grammar only shapes
decoding: the reply is still parsed by the tolerant parser, and a reply cut at `max_tokens` is
unfinished JSON that takes the usual truncation path.

    from synthrl.llm.grammar import json_grammar
    print(json_grammar('{"type": "object", "properties": {"a": {"type": "string"}}}'))
"""

from __future__ import annotations

from functools import lru_cache

ROOT = "root"
# llama-cpp-python 0.3.x's string character rule, and the one that keeps control characters out.
_LOOSE_CHAR = 'char ::= [^"\\\\] |'
_STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |'


@lru_cache(maxsize=64)
def json_grammar(schema: str) -> str:
    """The GBNF grammar (root rule `root`) of the replies that match `schema` (JSON text)."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    grammar = json_schema_to_gbnf(schema)
    lines = [
        _STRICT_CHAR + line[len(_LOOSE_CHAR) :] if line.startswith(_LOOSE_CHAR) else line
        for line in grammar.splitlines()
    ]
    return "\n".join(lines) + "\n"
