"""Tolerant JSON parsing of model replies (never eval), LaTeX kept (MATH-500 round trips)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthrl.synthesis.jsonparse import parse_json_reply


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


# LaTeX. Models write LaTeX with single backslashes; `\f`, `\b`, `\t`, `\r`, `\n` (and in Python
# literals `\a`, `\v`, `\x`) must not be read as escapes there. See the rule in jsonparse.


def test_issue_example_keeps_latex() -> None:
    reply = r'{"input": "Compute \frac{1}{2} + \theta", "output": "\boxed{5/6}"}'
    assert parse_json_reply(reply, dict) == {
        "input": r"Compute \frac{1}{2} + \theta",
        "output": r"\boxed{5/6}",
    }


COMMANDS = (
    r"\nabla f \neq 0, x \ne y, \nu, \not\in, \notin, \newline \times \tan x \theta \to \text{m}"
    r" \tfrac12 \rho \right) \rangle \rceil \beta \binom{n}{k} \boxed{1} \frac{a}{b} \forall"
    r" \underline{x} \underbrace{y} \vec{v} \alpha \xi \aleph \sqrt{2} \cdot \left( \{ \} \$"
    r" \, \; \! \  \% \& \# \_ \^ \| \ldots \pi"
)


@pytest.mark.parametrize("quote", ['"', "'"])
def test_latex_commands_survive_raw(quote: str) -> None:
    body = COMMANDS.replace(quote, "\\" + quote)
    reply = f"{{{quote}output{quote}: {quote}${body}${quote}}}"
    assert parse_json_reply(reply, dict) == {"output": f"${COMMANDS}$"}


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        (r"step one.\nThen step two", "step one.\nThen step two"),
        (r"a\n\nb\n1. c", "a\n\nb\n1. c"),
        (r"say \"hi\" and \/", 'say "hi" and /'),
        (r"caf\u00e9 \u00e9t\u00e9", "café été"),
        (r"name:\tvalue\r\nnext", "name:\tvalue\r\nnext"),
        (r"Solve.\nnext, the theta\nthe end", "Solve.\nnext, the theta\nthe end"),
        # A newline before a word that also spells a command (\ni, \nu, \ne) stays a newline in
        # text that writes newlines as \n and is not inside $...$.
        (r"Rows:\ni \\backslash j\nu and v", "Rows:\ni \\backslash j\nu and v"),
        (r"Step 1.\ne.g. this\nexists", "Step 1.\ne.g. this\nexists"),
        # The same words are commands inside inline math, or in raw LaTeX on one line.
        (r"If $x \ne 0$ and $\nu > 1$", r"If $x \ne 0$ and $\nu > 1$"),
        (r"\[ a \ni b \] and \sqrt{2}", r"\[ a \ni b \] and \sqrt{2}"),
        # Escaped properly (as json.dumps writes it): each pair is one backslash.
        (
            r"\\frac{1}{2}\n\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}",
            "\\frac{1}{2}\n"
            r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}",
        ),
        # Raw: LaTeX's line break `\\` is kept; a pair before letters is an escaped backslash.
        (
            r"\begin{pmatrix} 1 \\ 2 \end{pmatrix} + \\frac12",
            r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}"
            r" + \frac12",
        ),
    ],
)
def test_real_escapes_and_latex_together(written: str, meant: str) -> None:
    assert parse_json_reply('{"output": "' + written + '"}', dict) == {"output": meant}


def test_python_dict_reply_keeps_latex() -> None:
    # The adapt prompt asks for "python dictionary form": single quotes, raw LaTeX, real newlines.
    reply = "Revised sample:\n{'input': 'Find $\\frac{a}{b}$ if\n$\\alpha = \\tfrac12$.', " + (
        "'output': \"It's \\\\boxed{\\beta}\\nso \\x41 \\vec{v}\"}"
    )
    assert parse_json_reply(reply, dict) == {
        "input": "Find $\\frac{a}{b}$ if\n$\\alpha = \\tfrac12$.",
        "output": "It's \\boxed{\\beta}\nso A \\vec{v}",
    }


def _raw(text: str, quote: str, newline: str) -> str:
    """Text as a model writes it inside a string literal: quotes escaped, backslashes not."""
    return text.replace(quote, "\\" + quote).replace("\n", newline)


WRITERS = {
    "json.dumps": lambda p, s: json.dumps({"input": p, "output": s}),
    "json.dumps, unicode": lambda p, s: json.dumps({"input": p, "output": s}, ensure_ascii=False),
    "raw, newlines as is": lambda p, s: (
        '{"input": "' + _raw(p, '"', "\n") + '", "output": "' + _raw(s, '"', "\n") + '"}'
    ),
    "raw, newlines as \\n": lambda p, s: (
        '{"input": "' + _raw(p, '"', "\\n") + '", "output": "' + _raw(s, '"', "\\n") + '"}'
    ),
    "python repr": lambda p, s: repr({"input": p, "output": s}),
    "python, raw": lambda p, s: (
        "{'input': '" + _raw(p, "'", "\n") + "', 'output': '" + _raw(s, "'", "\\n") + "'}"
    ),
}


@pytest.mark.parametrize("writer", WRITERS)
def test_every_math500_item_round_trips(benchmarks: Path, writer: str) -> None:
    """Every MATH-500 problem and solution, written into a reply the way models write it (raw
    backslashes, or escaped properly), parses back exactly."""
    lines = (benchmarks / "math500" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 500
    wrong = []
    for row in rows:
        reply = "Here is the new example:\n" + WRITERS[writer](row["problem"], row["solution"])
        if parse_json_reply(reply, dict) != {"input": row["problem"], "output": row["solution"]}:
            wrong.append(row["unique_id"])
    assert wrong == []


@pytest.mark.parametrize("writer", WRITERS)
def test_gsm8k_items_with_real_newlines_round_trip(benchmarks: Path, writer: str) -> None:
    """GSM8K solutions are prose with newlines between steps: every `\\n` stays a newline."""
    lines = (benchmarks / "gsm8k" / "test.jsonl").read_text(encoding="utf-8").splitlines()[:300]
    rows = [json.loads(line) for line in lines]
    wrong = [
        i
        for i, row in enumerate(rows)
        if parse_json_reply(WRITERS[writer](row["question"], row["answer"]), dict)
        != {"input": row["question"], "output": row["answer"]}
    ]
    assert wrong == []
