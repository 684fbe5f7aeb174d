"""`verify.delta` through `verify_samples`: the scripted instructor is asked for fewer votes than
under the exact rule, each sample gets exactly the votes `votes_drawn` replays, and the setting
is refused where it would do nothing."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pytest

from synthrl.config import resolve_config
from synthrl.errors import TaskFileError
from synthrl.llm import LLM, Ledger
from synthrl.llm.fake import FakeBackend
from synthrl.synthesis.votes import verify_samples, votes_drawn
from synthrl.task import load_task
from tests.conftest import GOOD_TASK

K = 8
PATTERNS: dict[int, list[str | None]] = {  # per sample: the answer of vote i (cycled)
    0: ["4"],  # unanimous: exact after 5 of 8, delta 0.1 after 3
    1: ["4", "5", "6", "7"],  # scattered: nobody reaches 4 of 8
    2: ["4", "4", "5"],
    3: [None, "7", "7", "7"],
}


def instructor(request, index: int) -> str:
    sample = int(re.search(r"sample (\d+)", request.messages[0][1]).group(1))
    answers = PATTERNS[sample]
    answer = answers[index % len(answers)]
    return "I am not sure" if answer is None else f"#### {answer}"


def run(task, delta: float) -> tuple[dict[str, dict], int]:
    config = resolve_config(
        "cpu", overrides={"verify": {"k": K, "min_agreement": 0.5, "delta": delta}}
    )
    backend = FakeBackend(responder=instructor)
    llm = LLM(backend, None, Ledger(), "fake", show_progress=False)
    samples = [{"id": f"s{i}", "input": f"sample {i}: what?", "output": ""} for i in PATTERNS]
    kept, dropped = verify_samples(
        partial(llm.generate, stage="verify"), task, config.verify, 0, samples
    )
    return {s["id"]: s for s in [*kept, *dropped]}, sum(r.n for r in backend.calls)


def test_delta_asks_for_fewer_votes(write_task, tmp_path: Path) -> None:
    task = load_task(write_task(GOOD_TASK))
    exact, exact_votes = run(task, 0.0)
    probable, votes = run(task, 0.1)
    assert votes < exact_votes
    assert exact["s0"]["k"] == 5 and probable["s0"]["k"] == 3
    assert probable["s0"]["label"] == exact["s0"]["label"] == "4"
    for i, pattern in PATTERNS.items():
        answers = [pattern[j % len(pattern)] for j in range(K)]
        for outcome, delta in ((exact, 0.0), (probable, 0.1)):
            drawn = votes_drawn(answers, "number", K, 0.5, adaptive=True, delta=delta)
            assert outcome[f"s{i}"]["k"] == drawn, (i, delta)
    assert votes == sum(s["k"] for s in probable.values())


def test_delta_needs_adaptive_voting() -> None:
    with pytest.raises(TaskFileError, match=r"verify\.adaptive=true or verify\.delta=0"):
        resolve_config("paper", overrides={"verify": {"delta": 0.1}})
    with pytest.raises(TaskFileError, match=r"verify\.delta"):
        resolve_config("cpu", overrides={"verify": {"delta": 0.5}})
    assert resolve_config("cpu", overrides={"verify": {"delta": 0.1}}).verify.delta == 0.1
    assert resolve_config("paper").verify.delta == resolve_config("cpu").verify.delta == 0.0
