"""The generation switches of the paper's baselines and ablations (issue 20, part 4) on the
scripted fake instructor: `retrieve.enabled=false` (no retrieval: no keyword call, no library
read, samples from the passage-free prompt) and `pattern.enabled=false` (no pattern call, the
demos still shown). Each switch is in its stages' fingerprints; the defaults keep the
fingerprints of runs made before the switches existed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from synthrl.artifacts import RunDir
from synthrl.config import resolve_config
from synthrl.llm import Request
from synthrl.pipeline import fingerprint
from synthrl.prompts import GENERATE_NO_PASSAGE, generate_messages, generate_no_passage_messages
from synthrl.stages import STAGES
from synthrl.task import load_task
from tests.fakes import PASSAGES, question
from tests.stages.test_synthesis import TASK, instructor, run_all

DEMOS = (
    'demos:\n  - {input: "Tom has 1 apple and buys 2 more. How many?", '
    'output: "1 + 2 = 3\\n#### 3"}'
)
NO_PASSAGE_HEAD = GENERATE_NO_PASSAGE.split("{")[0]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    path = tmp_path / "passages.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
    return path


def self_instruct(request: Request, index: int) -> str:
    """The fake instructor, writing sample `index // 3` (3 sample indices per request: the
    first try and two retries) from the passage-free prompt."""
    prompt = request.messages[0][1]
    if prompt.startswith(NO_PASSAGE_HEAD):
        a, b = index // 3 + 2, 3
        return json.dumps({"input": question(a, b), "output": f"#### {a + b}"})
    return instructor(request, index)


def prompts_sent(backend, head: str) -> list[str]:
    return [r.messages[0][1] for r in backend.calls if r.messages[0][1].startswith(head)]


def test_no_retrieval_reads_no_library_and_writes_from_the_passage_free_prompt(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-library.jsonl"  # never opened with retrieval off
    run, reports, inst, _ = run_all(
        tmp_path, missing, responder=self_instruct, retrieve={"enabled": False}
    )
    assert all(r.status == "ran" for r in reports)
    assert run.rows("keywords", "keywords.jsonl") == []
    assert run.rows("retrieve", "passages.jsonl") == []
    assert not prompts_sent(inst, "You are an expert in the domain")  # no keyword call
    assert not prompts_sent(
        inst,
        "As a Dataset Generator, your task is to generate one new "
        "example ('input' and 'output') based on the [task instruction], "
        "[sample pattern] [reference passage]",
    )
    generation = [r for r in inst.calls if r.messages[0][1].startswith(NO_PASSAGE_HEAD)]
    assert len(generation) == 4 and "passage" not in generation[0].messages[0][1]
    # the same prompt for every sample: the requests differ by their sample index (seed)
    assert len({r.messages for r in generation}) == 1
    assert [r.first_sample for r in generation] == [0, 3, 6, 9]
    samples = run.rows("generate", "samples.jsonl")
    assert len(samples) == 4 and all(s["passage_id"] is None for s in samples)
    assert run.rows("select", "selected.jsonl")  # the rest of the pipeline runs on them


def test_pattern_switch_makes_no_call_and_keeps_the_demos(tmp_path: Path, library: Path) -> None:
    run, _, inst, _ = run_all(
        tmp_path, library, demos=DEMOS, stop="generate", pattern={"enabled": False}
    )
    saved = json.loads((run.stage_dir("pattern") / "pattern.json").read_text())
    assert saved == {"pattern": None, "demos": 1, "reply": None}
    assert not prompts_sent(inst, "Here are some examples")
    generation = prompts_sent(inst, "As a Dataset Generator")
    assert generation and all("Tom has 1 apple" in p for p in generation)
    assert not any("Here is the sample pattern" in p for p in generation)
    # Switched back on, the pattern stage (and what reads it) runs again, with one call.
    _, again, inst, _ = run_all(tmp_path, library, demos=DEMOS, stop="generate")
    status = {r.stage: r.status for r in again}
    assert status["pattern"] == "ran" and status["generate"] == "ran"
    assert status["keywords"] == "skipped" and status["retrieve"] == "skipped"
    assert len(prompts_sent(inst, "Here are some examples")) == 1


def test_switches_are_in_their_stages_fingerprints(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    library = tmp_path / "passages.jsonl"
    library.write_text(json.dumps({"title": "A", "text": "apples and pears"}) + "\n")
    path.write_text(TASK.format(library=library, demos=DEMOS))
    task, run = load_task(path), RunDir(tmp_path / "run")
    synthesis = ("keywords", "retrieve", "pattern", "generate", "verify", "probe", "adapt")
    stages = {s.name: s for s in STAGES if s.name in synthesis}
    default = resolve_config("cpu")
    switched = {
        "retrieve": (("keywords", "retrieve", "generate"), {"retrieve": {"enabled": False}}),
        "pattern": (("pattern",), {"pattern": {"enabled": False}}),
    }
    for names, override in switched.values():
        config = resolve_config("cpu", overrides=override)
        for name in stages:
            same = fingerprint(stages[name], task, default, run) == fingerprint(
                stages[name], task, config, run
            )
            assert same == (name not in names), (override, name)
    # The defaults leave the settings as they were before the switches (no rerun of old runs).
    retrieve = stages["retrieve"].settings(task, default)["retrieve"]
    assert set(retrieve) == {"per_keyword", "chunk_words"}
    assert "retrieve" not in stages["generate"].settings(task, default)
    assert "pattern" not in stages["pattern"].settings(task, default)


def test_passage_free_prompt_has_figure_6_parts_but_no_passage(tmp_path: Path) -> None:
    path = tmp_path / "task.yaml"
    path.write_text(TASK.format(library="embedded", demos=DEMOS))
    task = load_task(path)
    with_passage = generate_messages(task, "Apple: a fruit.", "P-TEXT", "7")[0]["content"]
    without = generate_no_passage_messages(task, "P-TEXT", "7")[0]["content"]
    for part in ("Here is the sample pattern P-TEXT", "Tom has 1 apple", "must be '7'"):
        assert part in with_passage and part in without
    tail = re.compile(r"Here is the task instruction:.*", re.S)
    passage_line = "Here are some related objects or passages that you can refer to: "
    assert tail.search(without).group(0) == tail.search(with_passage).group(0).replace(
        passage_line + "Apple: a fruit.\n", ""
    )
    assert "passage" not in without
