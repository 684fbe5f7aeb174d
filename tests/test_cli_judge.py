"""`synthrl judge`: exit 0 correct, 1 wrong, 2 for bad options."""

from __future__ import annotations

import subprocess
import sys

import pytest


def judge(stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "synthrl.cli", "judge", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("completion", "args", "code"),
    [
        ("so it costs 1,000.\n#### 1,000", ["--kind", "number", "--gold", "1000"], 0),
        ("#### 18 dollars", ["--kind", "number", "--gold", "19"], 1),
        ("<answer>C</answer>", ["--kind", "choice", "--gold", "C", "--opt", "letters=ABC"], 0),
        ("<answer>B or C</answer>", ["--kind", "choice", "--gold", "B"], 1),
        ("\\boxed{\\frac12}", ["--kind", "math", "--gold", "0.5"], 0),
    ],
)
def test_judge_exit_codes(completion: str, args: list[str], code: int) -> None:
    assert judge(completion, *args).returncode == code


def test_judge_bad_kind_is_a_clear_error() -> None:
    result = judge("x", "--kind", "numeric", "--gold", "1")
    assert result.returncode == 2 and "unknown answer kind" in result.stderr
