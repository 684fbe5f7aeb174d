"""The label audit: the instructor votes exactly as `verify` does, each label is compared with
the known answer, and the frontier over smaller k and other thresholds replays the same votes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from synthrl.audit import audit_labels
from synthrl.config import resolve_config
from synthrl.evaluate import load_items
from synthrl.llm import LLM, Ledger
from synthrl.llm.fake import FakeBackend
from synthrl.task import load_task
from tests.conftest import GOOD_TASK


def _items(tmp_path: Path) -> list:
    path = tmp_path / "items.jsonl"
    rows = [{"question": f"What is {i} + {i}? (item {i})", "answer": str(2 * i)} for i in range(6)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return load_items(str(path), {"question": "question", "answer": "answer"})


def instructor(request, index: int) -> str:
    """Right on items 0-2 always; item 3: right 2 of 3 times; item 4: wrong 3 of 3 (a confident
    wrong label); item 5: rambles past the token limit (cut off, no answer)."""
    i = int(re.search(r"item (\d+)", request.messages[0][1]).group(1))
    if i == 5:
        return "Let me think " + "very " * 400 + "2 + 2"
    if i == 4 or (i == 3 and index == 2):
        return f"#### {2 * i + 1}"
    return f"2 * {i} = {2 * i}\n#### {2 * i}"


def test_audit_counts_right_and_wrong_labels(write_task, tmp_path: Path) -> None:
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu", overrides={"verify": {"k": 3, "min_agreement": 0.6}})
    llm = LLM(FakeBackend(responder=instructor), None, Ledger(), "fake", False)
    base = LLM(FakeBackend(responder=lambda r, i: "#### 0"), None, Ledger(), "base", False)
    audit = audit_labels(llm, task, _items(tmp_path), config, base)
    summary = audit.summary()
    assert summary["items"] == 6 and summary["kept"] == 5  # item 5 has no readable vote
    assert summary["kept_correct"] == 4 and summary["kept_accuracy"] == 4 / 5
    assert summary["base_pass_rate"] == 1 / 6  # "#### 0" is right for item 0 only
    levels = {level["agreement"]: level for level in summary["by_agreement"]}
    assert levels[1.0]["items"] == 4 and levels[1.0]["correct"] == 3  # item 4: unanimous, wrong
    assert levels[round(2 / 3, 4)]["correct"] == 1
    # The frontier replays the same votes: with all 3 required, item 3 drops out.
    point = next(p for p in summary["frontier"] if p["k"] == 3 and p["min_agreement"] == 1.0)
    assert point["kept_share"] == 4 / 6 and point["kept_accuracy"] == 3 / 4
    first = next(p for p in summary["frontier"] if p["k"] == 1)
    assert first["kept_share"] == 5 / 6 and first["kept_accuracy"] == 4 / 5
    # Every item's votes, in draw order, for replaying other stopping rules (bench/verify.py).
    rows = json.loads(json.dumps(summary))["rows"]
    assert summary["kind"] == "number" and [r["id"] for r in rows] == [it.id for it in audit.rows]
    item3 = rows[3]
    assert item3["votes"] == ["6", "6", "7"] and item3["label"] == "6" and item3["kept"]
    assert item3["gold"] == "6" and item3["correct"] and item3["base_solved"] is False
    assert rows[5]["votes"] == [None, None, None] and not rows[5]["kept"]
