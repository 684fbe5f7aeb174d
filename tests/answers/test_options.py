"""Option validation, CLI option parsing, strict format and `explain`."""

from __future__ import annotations

import pytest

from synthrl.answers import (
    KINDS,
    AnswerOptionError,
    equivalent,
    explain,
    extract,
    follows_format,
    parse_cli_options,
    required_format,
)


def test_kinds() -> None:
    assert KINDS == ("number", "math", "choice", "yes_no", "label", "text")


def test_unknown_kind_and_option_are_explained() -> None:
    with pytest.raises(AnswerOptionError, match="unknown answer kind 'nmber'"):
        extract("#### 1", "nmber")  # type: ignore[arg-type]
    with pytest.raises(AnswerOptionError, match="allowed"):
        extract("#### 1", "number", letters="ABC")
    with pytest.raises(AnswerOptionError, match="labels"):
        extract("x", "label")
    with pytest.raises(AnswerOptionError, match="letters"):
        extract("x", "choice", letters="A1")
    with pytest.raises(AnswerOptionError, match="fmt"):
        extract("x", "number", fmt="###")


def test_parse_cli_options() -> None:
    assert parse_cli_options("label", ["labels=entailment, neutral,contradiction"]) == {
        "labels": ["entailment", "neutral", "contradiction"]
    }
    opts = parse_cli_options("choice", ['options={"A": "x", "B": "y"}', "letters=AB", "strict=1"])
    assert opts == {"options": {"A": "x", "B": "y"}, "letters": "AB", "strict": True}
    assert parse_cli_options("number", ["rel_tol=0.01", "timeout=2"]) == {
        "rel_tol": 0.01,
        "timeout": 2,
    }
    with pytest.raises(AnswerOptionError, match="KEY=VALUE"):
        parse_cli_options("number", ["rel_tol"])
    with pytest.raises(AnswerOptionError, match="unknown option"):
        parse_cli_options("number", ["labels=a,b"])


@pytest.mark.parametrize(
    ("completion", "kind", "expected"),
    [
        ("steps...\n#### 42", "number", True),
        ("steps...\n#### $42.", "number", True),
        ("steps...\n#### 42 dollars", "number", True),
        ("#### 42\nHuman: next question", "number", False),
        ("#### The answer is 42", "number", False),
        ("#### 5 + 3 = 8", "number", False),
        ("\\boxed{42}", "number", False),
        ("\\boxed{42}", "math", True),
        ("#### 42", "math", False),
        ("<answer>C</answer>", "choice", True),
        ("<answer>C or D</answer>", "choice", False),
        ("(C)", "choice", False),
        ("<answer>no</answer>", "yes_no", True),
        ("<answer>anything</answer>", "text", True),
        ("<answer></answer>", "text", False),
    ],
)
def test_follows_format(completion: str, kind: str, expected: bool) -> None:
    assert follows_format(completion, kind) is expected


def test_required_format() -> None:
    assert required_format("number") == "####"
    assert required_format("math") == "boxed"
    assert required_format("choice") == "answer_tag"
    assert required_format("number", "boxed") == "boxed"
    assert follows_format("\\boxed{4}", "number", fmt="boxed")


def test_equivalent_answers() -> None:
    assert equivalent("1,000", "1000", "number")
    assert not equivalent("1,000", "100", "number")
    assert equivalent("\\frac{1}{2}", "0.5", "math")
    assert equivalent("x^2-1", "(x-1)(x+1)", "math")
    assert equivalent("B", "Beta", "choice", options={"A": "Alpha", "B": "Beta"})


def test_explain() -> None:
    info = explain("So 18.\n#### 18 dollars", "18", "number")
    assert info == {
        "kind": "number",
        "extracted": "18",
        "strict_extracted": "18",
        "required_format": "####",
        "gold": "18",
        "correct": True,
        "strict_correct": True,
    }
    info = explain("\\boxed{18}", "18", "number")
    assert info["correct"] and not info["strict_correct"]
