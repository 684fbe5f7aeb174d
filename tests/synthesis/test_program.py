"""The label checks of number tasks: the instructor's Python arithmetic re-done by a whitelisted
interpreter (never eval), and its written equations checked."""

from __future__ import annotations

import pytest

from synthrl.synthesis.program import arithmetic_errors, checked_vote, program_answer

# A real vote of the embedded instructor (GSM8K train #1): the program computes 72, the
# output block and the boxed answer it imagined say 60.
HALLUCINATED = """Let's calculate this using Python code.
```python
# Number of clips sold in April
clips_april = 48

# Number of clips sold in May (half of April's clips)
clips_may = clips_april / 2

# Total clips sold in April and May
total_clips = clips_april + clips_may
print(total_clips)
```
```output
60.0
```
Natalia sold a total of \\(\\boxed{60}\\) clips altogether in April and May."""


def test_the_program_is_run_not_its_imagined_output() -> None:
    assert program_answer(HALLUCINATED) == 72
    assert checked_vote(HALLUCINATED, "60") == "72"


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("x = 3\ny = x * 4 + 1\nprint(y)", 13),
        ("import math\nn = math.ceil(7 / 2)\nprint(n)", 4),
        ("total = 10\ntotal += 5\ntotal -= 3\nprint(round(total / 5, 2))", 2.4),
        ("a = 2 ** 10\nprint('answer:', a)", 1024),
        ("a = 5\nb = a % 3", 2),  # no print: the last assignment
    ],
)
def test_straight_line_arithmetic_runs(code: str, value: float) -> None:
    assert program_answer(f"```python\n{code}\n```") == pytest.approx(value)


@pytest.mark.parametrize(
    "code",
    [
        "import os\nprint(os.getcwd())",
        "__import__('os').system('echo hi')",
        "x = open('/etc/passwd').read()\nprint(len(x))",
        "for i in range(3):\n    x = i\nprint(x)",
        "x = [1, 2]\nprint(x[0])",
        "print(undefined + 1)",
        "x = 10 ** 100\nprint(x)",
        "x = 9 ** 9 ** 9\nprint(x)",
        "x = (lambda: 1)()\nprint(x)",
        "x = 1 / 0\nprint(x)",
        "def f():\n    return 1\nprint(f())",
        "x = (" * 500 + "1" + ")" * 500,
    ],
)
def test_anything_else_gives_no_verdict(code: str) -> None:
    assert program_answer(f"```python\n{code}\n```") is None


def test_written_equations_are_checked() -> None:
    assert arithmetic_errors("48 / 2 = 24, and 48 + 24 = 72.") == 0
    assert arithmetic_errors("10 / 3 = 3.33 and 5 \\times 2 = 10 and $1,200 - 200 = 1,000") == 0
    assert arithmetic_errors("So 3 x 4 = 13, and 6 * 7 = 42") == 1
    assert checked_vote("6 * 7 = 41\n#### 41", "41") is None  # wrong arithmetic: unreadable
    assert checked_vote("6 * 7 = 42\n#### 42", "42") == "42"
    assert checked_vote("no arithmetic at all, #### 5", "5") == "5"


def test_verify_uses_the_checks_when_asked(write_task) -> None:
    from synthrl.synthesis.samples import apply_votes
    from synthrl.task import load_task
    from tests.conftest import GOOD_TASK

    task = load_task(write_task(GOOD_TASK))
    sample = {"id": "g1", "input": "Natalia sold 48 clips ...", "output": "#### 72"}
    votes = [[HALLUCINATED, HALLUCINATED, "#### 72"]]
    plain, _ = apply_votes(task, [sample], votes, 0.5)
    checked, _ = apply_votes(task, [sample], votes, 0.5, check_arithmetic=True)
    assert plain[0]["label"] == "60" and checked[0]["label"] == "72"
    assert checked[0]["agreement"] == 1.0 and checked[0]["answers"] == ["72", "72", "72"]
