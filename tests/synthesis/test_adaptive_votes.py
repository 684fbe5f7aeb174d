"""Adaptive voting draws fewer votes and keeps exactly the labels and keep/drop decisions of
drawing all k; every vote is cached by its index, so a resumed run repays nothing."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from synthrl.config import resolve_config
from synthrl.llm import LLM, CallCache, Ledger
from synthrl.llm.fake import FakeBackend
from synthrl.synthesis.votes import verify_samples
from synthrl.task import load_task
from tests.conftest import GOOD_TASK

PATTERNS = {  # per sample: the answer of vote i (cycled)
    0: ["4"],  # unanimous: settles after 3 of 4
    1: ["4", "5", "6"],  # nobody can reach 3 of 4: settles after 3
    2: ["4", "4", "5", "4"],  # needs all 4
    3: [None, "7", "7", "7"],
}


def instructor(request, index: int) -> str:
    sample = int(re.search(r"sample (\d+)", request.messages[0][1]).group(1))
    answers = PATTERNS[sample]
    answer = answers[index % len(answers)]
    return "I am not sure" if answer is None else f"#### {answer}"


def run(task, adaptive: bool, cache: CallCache | None = None) -> tuple[list, list, int]:
    config = resolve_config(
        "cpu", overrides={"verify": {"k": 4, "min_agreement": 0.75, "adaptive": adaptive}}
    )
    backend = FakeBackend(responder=instructor)
    llm = LLM(backend, cache, Ledger(), "fake", show_progress=False)
    samples = [{"id": f"s{i}", "input": f"sample {i}: what?", "output": ""} for i in PATTERNS]
    generate = partial(llm.generate, stage="verify")
    kept, dropped = verify_samples(generate, task, config.verify, 0, samples)
    drawn = sum(r.n for r in backend.calls)
    return kept, dropped, drawn


def test_same_decisions_fewer_votes(write_task, tmp_path: Path) -> None:
    task = load_task(write_task(GOOD_TASK))
    full_kept, full_dropped, full_votes = run(task, adaptive=False)
    kept, dropped, votes = run(task, adaptive=True)
    assert [(s["id"], s["label"]) for s in kept] == [(s["id"], s["label"]) for s in full_kept]
    assert [s["id"] for s in dropped] == [s["id"] for s in full_dropped]
    assert full_votes == 16 and votes == 3 + 3 + 4 + 4


def test_resumed_adaptive_run_repays_nothing(write_task, tmp_path: Path) -> None:
    task = load_task(write_task(GOOD_TASK))
    cache = CallCache(tmp_path / "c.sqlite")
    run(task, adaptive=True, cache=cache)
    _, _, votes = run(task, adaptive=True, cache=cache)
    assert votes == 0
