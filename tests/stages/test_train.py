"""The train stage's settings (synthrl.stages.train): `train.skip_settled`'s fields enter the
fingerprint only when it is on, so runs from before it keep their checkpoints."""

from __future__ import annotations

from synthrl.config import resolve_config
from synthrl.stages.train import SETTLED, settings
from synthrl.task import load_task
from tests.conftest import GOOD_TASK


def test_skip_settled_enters_the_fingerprint_only_when_on(write_task) -> None:
    task = load_task(write_task(GOOD_TASK))
    off = settings(task, resolve_config("cpu"))["train"]
    assert not SETTLED & set(off)  # as before the switch existed
    on = settings(task, resolve_config("cpu", overrides={"train": {"skip_settled": True}}))
    assert on["train"]["skip_settled"] is True and on["train"]["settle_window"] == 2
    assert {k: v for k, v in on["train"].items() if k not in SETTLED} == off
