"""A stage reruns exactly when something that can change its output changed: the content of the
artifacts it reads (not only their settings), model weights, library, evaluation and training
files, prompt templates."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from synthrl.artifacts import RunDir
from synthrl.config import resolve_config
from synthrl.fingerprint import folder_digest, model_identity, path_digest
from synthrl.llm import Ledger
from synthrl.llm.fake import FakeBackend
from synthrl.pipeline import Stage, StageContext, StageOutput, fingerprint, run_pipeline
from synthrl.prompts import templates_digest
from synthrl.stages import STAGES
from synthrl.task import load_task
from tests.conftest import GOOD_TASK
from tests.test_pipeline import pool_for


def _stages(calls: list[str]) -> list[Stage]:
    def train(ctx: StageContext) -> StageOutput:  # not deterministic, like GRPO
        calls.append("train")
        model = ctx.out_dir / "model"
        model.mkdir(exist_ok=True)
        (model / "weights.bin").write_bytes(os.urandom(64))
        return StageOutput({"steps": 1})

    def evaluate(ctx: StageContext) -> StageOutput:
        calls.append("evaluate")
        return StageOutput({"items": 1})

    return [
        Stage("train", train, lambda t, c: {}),
        Stage("evaluate", evaluate, lambda t, c: {}, inputs=("train",)),
    ]


def test_downstream_reruns_after_a_forced_nondeterministic_rerun(write_task, tmp_path) -> None:
    task, config = load_task(write_task(GOOD_TASK)), resolve_config("cpu")
    calls: list[str] = []
    stages, run = _stages(calls), RunDir(tmp_path / "run")
    pool = pool_for(config, FakeBackend(), Ledger())
    run_pipeline(stages, task, config, run, pool, Ledger())
    run_pipeline(stages, task, config, run, pool, Ledger(), stop="train", force=True)
    assert calls == ["train", "evaluate", "train"]
    # The model changed: evaluate must not report the old one.
    reports = run_pipeline(stages, task, config, run, pool, Ledger())
    assert [r.status for r in reports] == ["skipped", "ran"]
    assert calls[-1] == "evaluate"
    assert [r.status for r in run_pipeline(stages, task, config, run, pool, Ledger())] == [
        "skipped",
        "skipped",
    ]


def test_hand_edited_artifact_reruns_its_readers(write_task, tmp_path) -> None:
    task, config = load_task(write_task(GOOD_TASK)), resolve_config("cpu")
    calls: list[str] = []
    stages, run = _stages(calls), RunDir(tmp_path / "run")
    pool = pool_for(config, FakeBackend(), Ledger())
    run_pipeline(stages, task, config, run, pool, Ledger())
    (run.stage_dir("train") / "model" / "weights.bin").write_bytes(b"edited")
    reports = run_pipeline(stages, task, config, run, pool, Ledger())
    assert [r.status for r in reports] == ["skipped", "ran"]


def test_folder_digest_ignores_manifest_checkpoints_and_temp_files(tmp_path: Path) -> None:
    (tmp_path / "data.jsonl").write_text('{"a": 1}\n')
    before = folder_digest(tmp_path)
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / ".data.jsonl.tmp-1").write_text("partial")
    (tmp_path / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    (tmp_path / "checkpoints" / "checkpoint-2" / "x").write_text("resume point")
    assert folder_digest(tmp_path) == before
    (tmp_path / "data.jsonl").write_text('{"a": 2}\n')
    assert folder_digest(tmp_path) != before


def test_files_are_hashed_by_content_not_path(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_text('{"question": "q1"}\n')
    first = path_digest(str(path))
    path.write_text('{"question": "q2"}\n')
    assert path_digest(str(path)) != first
    assert path_digest("hf:openai/gsm8k") == "hf:openai/gsm8k"


def test_model_identity_follows_the_weights(tmp_path: Path) -> None:
    weights = tmp_path / "model"
    weights.mkdir()
    (weights / "model.safetensors").write_bytes(b"a" * 10)
    first = model_identity(f"hf:{weights}")
    (weights / "model.safetensors").write_bytes(b"b" * 11)  # retrained in place
    assert model_identity(f"hf:{weights}") != first
    assert model_identity("embedded:base").startswith("embedded:base@")
    assert model_identity("openai:http://a/v1#m") == "openai:http://a/v1#m"


def _stage(name: str):
    return next(s for s in STAGES if s.name == name)


def test_real_stages_fingerprint_their_model_weights(write_task, tmp_path: Path) -> None:
    task = load_task(write_task(GOOD_TASK))
    run = RunDir(tmp_path / "run")
    weights = tmp_path / "base"
    weights.mkdir()
    (weights / "model.safetensors").write_bytes(b"a")
    config = resolve_config("cpu", overrides={"models": {"base": f"hf:{weights}"}})
    prints = {s: fingerprint(_stage(s), task, config, run) for s in ("probe", "score", "train")}
    (weights / "model.safetensors").write_bytes(b"bb")
    for name, before in prints.items():
        assert fingerprint(_stage(name), task, config, run) != before, name


def test_retrieve_fingerprints_the_library_content(write_task, tmp_path: Path) -> None:
    library = tmp_path / "library.jsonl"
    library.write_text(json.dumps({"title": "A", "text": "apples and pears"}) + "\n")
    task = load_task(write_task(GOOD_TASK + f"library: {{source: {library}}}\n"))
    config, run = resolve_config("cpu"), RunDir(tmp_path / "run")
    before = fingerprint(_stage("retrieve"), task, config, run)
    library.write_text(json.dumps({"title": "B", "text": "oranges and plums"}) + "\n")
    assert fingerprint(_stage("retrieve"), task, config, run) != before


def test_evaluate_fingerprints_the_items_and_their_source(write_task, tmp_path: Path) -> None:
    items = tmp_path / "eval.jsonl"
    items.write_text(json.dumps({"question": "1 + 1?", "answer": "2"}) + "\n")
    task = load_task(write_task(GOOD_TASK + f"evaluation: {{path: {items}}}\n"))
    config, run = resolve_config("cpu"), RunDir(tmp_path / "run")
    before = fingerprint(_stage("evaluate"), task, config, run)
    items.write_text(json.dumps({"question": "1 + 2?", "answer": "3"}) + "\n")
    assert fingerprint(_stage("evaluate"), task, config, run) != before


def test_train_data_is_hashed_by_content(write_task, tmp_path: Path) -> None:
    data = tmp_path / "human.jsonl"
    data.write_text(json.dumps({"question": "1 + 1?", "answer": "2"}) + "\n")
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu", overrides={"train": {"data": str(data)}})
    run = RunDir(tmp_path / "run")
    before = fingerprint(_stage("train"), task, config, run)
    data.write_text(json.dumps({"question": "2 + 2?", "answer": "4"}) + "\n")
    assert fingerprint(_stage("train"), task, config, run) != before


def test_prompt_templates_are_in_the_fingerprint(monkeypatch) -> None:
    from synthrl import prompts

    before = templates_digest(["rewrite"])
    solve = templates_digest(["solve"])
    monkeypatch.setattr(prompts, "HARDER", prompts.HARDER + " Be creative.")
    assert templates_digest(["rewrite"]) != before
    assert templates_digest(["solve"]) == solve
    sent = {s.name: set(s.prompts) for s in STAGES if s.models}
    assert sent == {
        "keywords": {"keywords"},
        "pattern": {"pattern"},
        "generate": {"generate"},
        "verify": {"solve"},
        "probe": {"solve"},
        "adapt": {"rewrite", "solve"},
        "score": {"solve"},
        "train": {"solve"},
        "evaluate": {"solve"},
    }


def test_random_bytes_change_digest(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    seen = set()
    for seed in range(5):
        (folder / "a.bin").write_bytes(random.Random(seed).randbytes(32))
        seen.add(folder_digest(folder))
    assert len(seen) == 5


def test_score_keys_the_stopping_rule_only_when_it_runs(write_task) -> None:
    from synthrl.stages import score

    task = load_task(write_task(GOOD_TASK))

    def key(preset: str, **fields: object) -> dict:
        return score.settings(task, resolve_config(preset, overrides={"score": fields}))

    # full-L (paper): round_size and delta do nothing, so changing them reruns nothing
    assert key("paper") == key("paper", round_size=2, delta=0.2)
    assert "delta" not in key("paper")["score"]
    # adaptive (cpu): they decide where samples stop
    assert key("cpu") != key("cpu", delta=0.2) and key("cpu") != key("cpu", round_size=2)
