"""The prompts module: the rewrite prompt shows the verified label, the paper's templates are
its text, ours are marked, the template fingerprint tracks every template, and moving the
prompts here left the messages (so the cache keys of earlier runs) unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from synthrl import prompts
from synthrl.task import load_task
from tests.conftest import EXAMPLES

PAPER_FILE = (
    Path(__file__).resolve().parents[2].parent / "shared" / "paper" / "synthetic-data-rl.md"
)

RELABELLED = {
    "id": "g00001",
    "input": "A farmer has 2 apples and buys 3 more apples. How many apples now?",
    "output": "2 + 3 = 6\n#### 6",  # the generator's wrong answer
    "label": "5",
    "reference": "2 plus 3 is 5.\n#### 5",
    "generator_agrees": False,
    "solved": True,
}


def test_rewrite_prompt_shows_the_verified_solution_not_the_generators() -> None:
    content = prompts.rewrite_messages(RELABELLED, harder=True)[0]["content"]
    assert content.startswith(prompts.HARDER.split("{sample}")[0])  # Figure 7 wording
    assert repr(RELABELLED["reference"]) in content and "#### 6" not in content
    no_reference = {**RELABELLED, "reference": None}
    content = prompts.rewrite_messages(no_reference, harder=False)[0]["content"]
    assert content.startswith(prompts.EASIER.split("{sample}")[0])
    assert content.endswith("'output': '5'}") and "#### 6" not in content
    unverified = {"input": RELABELLED["input"], "output": "2 + 3 = 5\n#### 5"}
    assert prompts.verified_output(unverified) == "2 + 3 = 5\n#### 5"


def test_every_template_is_marked_as_the_papers_or_ours() -> None:
    names = set(prompts.templates())
    assert {"KEYWORDS", "PATTERN", "SOLVE", "GENERATE", "HARDER", "EASIER"} <= names
    assert names == prompts.PAPER.keys() | prompts.OURS.keys()
    assert not prompts.PAPER.keys() & prompts.OURS.keys()
    assert {"KEYWORDS", "PATTERN", "SOLVE"} <= prompts.OURS.keys()


def test_the_papers_templates_are_its_text() -> None:
    if not PAPER_FILE.is_file():
        pytest.fail(f"the paper is expected at {PAPER_FILE} (../shared/paper)")
    paper = " ".join(PAPER_FILE.read_text(encoding="utf-8").split())
    for name in prompts.PAPER:
        for part in re.split(r"\{\w+\}", prompts.templates()[name]):
            assert " ".join(part.split()) in paper, (name, part)


def test_every_template_is_in_the_digest_of_its_prompt(monkeypatch) -> None:
    """Editing any template changes the digest of the prompt it belongs to (which the stages
    sending that prompt carry in their fingerprints), and only of that prompt."""
    names = list(prompts.TEMPLATE_PARTS)
    before = {name: prompts.templates_digest([name]) for name in names}
    for constant, text in prompts.templates().items():
        owners = [n for n in names if constant in prompts.TEMPLATE_PARTS[n]]
        assert owners, f"{constant} belongs to no prompt in TEMPLATE_PARTS"
        with monkeypatch.context() as patch:
            patch.setattr(prompts, constant, text + " ")
            for name in names:
                changed = prompts.templates_digest([name]) != before[name]
                assert changed == (name in owners), (constant, name)
    assert {name: prompts.templates_digest([name]) for name in names} == before


def test_messages_are_those_sent_before_the_move() -> None:
    """The old formulas, spelled out: the same messages keep earlier runs' cache keys."""
    task = load_task(EXAMPLES / "gsm8k-demos.yaml")
    assert task.demos
    shown = "\n".join(f"Input: {d.input}\nOutput: {d.output}" for d in task.demos[:3])
    old_keywords = (
        prompts.KEYWORDS.split("{count}")[0]
        + "7"
        + prompts.KEYWORDS.split("{count}")[1].split("{description}")[0]
        + task.description.strip()
        + f"\n\nExamples of the task:\n{shown}\n\n"
        + 'Output only a JSON list of strings, e.g. ["keyword one", "keyword two"].'
    )
    assert prompts.keywords_messages(task, 7) == [{"role": "user", "content": old_keywords}]
    parts = [task.description.strip(), "Q?", task.output_format.strip()]
    assert prompts.solve_messages(task, " Q? ")[0]["content"] == "\n\n".join(parts)
    content = prompts.generate_messages(task, "Passage.", "P.")[0]["content"]
    assert (
        "Here is the sample pattern P.. You should follow the input and output pattern strictly "
        "to generate data!!!\nYou can refer to demonstration examples. You should generate "
        "examples that are in the same difficulty or are harder: Example 1:"
    ) in content
