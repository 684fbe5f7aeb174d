"""Structured replies in the stages (issue 17) on the scripted fake instructor: keywords,
pattern, generate and adapt ask for their reply's JSON shape (`reply_schemas`), the votes and
the base model's calls ask for none; a structured pattern reply is read as its text; and
`llm.structured` is in the fingerprints of exactly the four stages that send a schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthrl.artifacts import RunDir
from synthrl.config import LLMConfig, resolve_config
from synthrl.llm import Request
from synthrl.llm.registry import open_llm
from synthrl.pipeline import fingerprint
from synthrl.stages import STAGES
from synthrl.synthesis.reply_schemas import PATTERN, SAMPLE, keywords_schema
from synthrl.task import load_task
from tests.fakes import PASSAGES
from tests.llm.loopback import StubServer
from tests.stages.test_synthesis import TASK, instructor, run_all

DEMOS = (
    'demos:\n  - {input: "Tom has 1 apple and buys 2 more. How many?", '
    'output: "1 + 2 = 3\\n#### 3"}'
)
PATTERN_TEXT = "Inputs are short word problems about adding two counts; outputs end with #### N."
HEADS = {
    "You are an expert in the domain": "keywords",
    "Here are some examples": "pattern",
    "As a Dataset Generator": "generate",
    "The current sample is overly simplistic": "adapt",
    "The given sample is too challenging": "adapt",
}


@pytest.fixture
def library(tmp_path: Path) -> Path:
    path = tmp_path / "passages.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
    return path


def structured_instructor(request: Request, index: int) -> str:
    """The fake instructor, answering the pattern prompt in its structured form."""
    if request.messages[0][1].startswith("Here are some examples"):
        return json.dumps({"pattern": PATTERN_TEXT})
    return instructor(request, index)


def kind(request: Request) -> str:
    text = request.messages[0][1]
    return next((name for head, name in HEADS.items() if text.startswith(head)), "vote")


def test_each_stage_asks_for_its_replys_shape(tmp_path: Path, library: Path) -> None:
    run, _, inst, base = run_all(tmp_path, library, demos=DEMOS, responder=structured_instructor)
    count = resolve_config("cpu").keywords.count
    expected = {
        "keywords": keywords_schema(count),
        "pattern": PATTERN,
        "generate": SAMPLE,
        "adapt": SAMPLE,
        "vote": None,
    }
    seen = {kind(r) for r in inst.calls}
    assert seen == set(expected)
    for request in inst.calls:
        assert request.schema == expected[kind(request)], kind(request)
    assert base.calls and all(r.schema is None for r in base.calls)
    saved = json.loads((run.stage_dir("pattern") / "pattern.json").read_text())
    assert saved["pattern"] == PATTERN_TEXT and json.loads(saved["reply"]) == {
        "pattern": PATTERN_TEXT
    }
    generation = [r.messages[0][1] for r in inst.calls if kind(r) == "generate"]
    assert all(f"Here is the sample pattern {PATTERN_TEXT}." in p for p in generation)
    assert '{"pattern"' not in generation[0]


def test_structured_is_in_the_fingerprints_of_the_stages_that_send_a_schema(
    tmp_path: Path,
) -> None:
    path = tmp_path / "task.yaml"
    library = tmp_path / "passages.jsonl"
    library.write_text(json.dumps({"title": "A", "text": "apples and pears"}) + "\n")
    path.write_text(TASK.format(library=library, demos=DEMOS))
    task, run = load_task(path), RunDir(tmp_path / "run")
    on, off = resolve_config("cpu"), resolve_config("cpu", overrides={"llm": {"structured": False}})
    assert on.llm.structured and resolve_config("paper").llm.structured
    changed = {
        stage.name
        for stage in STAGES
        if fingerprint(stage, task, on, run) != fingerprint(stage, task, off, run)
    }
    assert changed == {"keywords", "pattern", "generate", "adapt"}
    for stage in STAGES:  # off: the settings of runs made before structured replies
        if stage.name in changed:
            assert "structured" not in stage.settings(task, off)


def test_llm_structured_false_reaches_the_client(tmp_path: Path) -> None:
    with StubServer(lambda body: ['{"input": "a question?", "output": "#### 1"}']) as server:
        for structured in (True, False):
            config = LLMConfig(structured=structured)
            llm = open_llm(f"openai:{server.url}", config, show_progress=False)
            llm.generate([Request.chat([{"role": "user", "content": "x"}], schema=SAMPLE)], "t")
    on, off = server.bodies
    assert "response_format" in on and "response_format" not in off
