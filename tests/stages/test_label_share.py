"""The label-share cap in `verify` (issue 21, `verify.max_label_share`): on a scripted instructor
that writes every 'neutral' review as a positive one, the `cpu` preset keeps no label above half
of the verified samples and records each capped sample in verify/dropped.jsonl; the cap enters
the verify fingerprint only where it applies, so number tasks and adapt keep theirs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from synthrl.config import VerifyConfig, resolve_config
from synthrl.llm import Request
from synthrl.stages import adapt, verify
from synthrl.task import load_task
from tests.stages import test_balance
from tests.stages.test_balance import REVIEWS, TARGET, instructor, run_reviews

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tasks"
# VerifyConfig's fields before the cap: the verify and adapt fingerprints hash exactly these
# wherever the cap does not apply.
OLD_FIELDS = {
    "k",
    "temperature",
    "min_agreement",
    "max_tokens",
    "adaptive",
    "delta",
    "permute_options",
    "check_arithmetic",
}


def no_neutral(request: Request, index: int, leak: int | None = None) -> str:
    """Asked for a neutral review, writes a positive one (as the embedded instructor does); the
    votes read the review's sentiment, except that the first vote on the first review says
    neutral (a lower agreement for that sample)."""
    prompt = request.messages[0][1]
    if prompt.startswith("As a Dataset Generator"):
        title = re.search(r"refer to: (\w+):", prompt).group(1)
        target = TARGET.search(prompt).group(1)
        sentiment = "positive" if target == "neutral" else target
        text = REVIEWS[sentiment].format(t=f"{title} {index}")
        return json.dumps({"input": text, "output": f"<answer>{sentiment}</answer>"})
    if not prompt.startswith("You are an expert") and index == 0 and " 0 stall" in prompt:
        return "<answer>neutral</answer>"
    return instructor(request, index)


def test_cpu_preset_caps_the_largest_label_at_half(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(test_balance, "instructor", no_neutral)
    run, _, _ = run_reviews(tmp_path)
    generated = run.rows("generate", "samples.jsonl")
    assert [s["target"] for s in generated] == ["positive", "negative", "neutral"] * 2
    # voted: positive 4 (g00000 at 2 of 3 votes), negative 2: 67% > 50%
    verified = run.rows("verify", "samples.jsonl")
    assert [(s["id"], s["label"]) for s in verified] == [
        ("g00001", "negative"),
        ("g00002", "positive"),
        ("g00003", "positive"),
        ("g00004", "negative"),
    ]
    dropped = run.rows("verify", "dropped.jsonl")
    # the lowest agreement first, then the later of the tied rows; each as verified
    assert [(d["id"], d["label"], d["reason"]) for d in dropped] == [
        ("g00000", "positive", "label_share"),
        ("g00005", "positive", "label_share"),
    ]
    assert dropped[0]["agreement"] == 0.6667 and "reference" in dropped[0]
    manifest = run.manifest("verify")
    assert manifest["drops"] == {"label_share": 2} and manifest["counts"]["samples"] == 4


@pytest.mark.parametrize("preset", ["cpu", "cpu-long", "paper"])
def test_number_task_fingerprints_ignore_the_cap(preset: str) -> None:
    task = load_task(EXAMPLES / "gsm8k.yaml")
    config = resolve_config(preset)
    off = config.model_copy(
        update={"verify": config.verify.model_copy(update={"max_label_share": None})}
    )
    for stage in (verify, adapt):
        assert stage.settings(task, config) == stage.settings(task, off)
        assert set(stage.settings(task, config)["verify"]) == OLD_FIELDS
    assert "max_label_share" not in verify.settings(task, config)


def test_label_task_fingerprint_names_the_cap_where_it_is_set() -> None:
    task = load_task(EXAMPLES / "mednli.yaml")
    cpu, paper = resolve_config("cpu"), resolve_config("paper")
    assert cpu.verify.max_label_share == 0.5 and paper.verify.max_label_share is None
    assert verify.settings(task, cpu)["max_label_share"] == 0.5
    assert set(verify.settings(task, cpu)["verify"]) == OLD_FIELDS
    assert "max_label_share" not in verify.settings(task, paper)
    off = cpu.model_copy(update={"verify": cpu.verify.model_copy(update={"max_label_share": None})})
    assert "max_label_share" not in verify.settings(task, off)
    assert adapt.settings(task, cpu) == adapt.settings(task, off)  # adapt does not cap


def test_the_cap_is_a_share() -> None:
    with pytest.raises(ValueError):
        VerifyConfig(max_label_share=0)
    with pytest.raises(ValueError):
        VerifyConfig(max_label_share=1.5)
