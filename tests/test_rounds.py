"""Rounds (synthrl.rounds) on scripted fakes: round 2 probes, rewrites, scores, selects and trains
from round 1's model in RUN/round-2/, the final evaluation uses the last round's model, a crash
in round 2 resumes without paying again, and `rounds: 1` is the pipeline as it was."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from synthrl.artifacts import RunDir
from synthrl.config import resolve_config
from synthrl.errors import SynthRLError, TaskFileError
from synthrl.fingerprint import folder_digest
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.fake import FakeBackend
from synthrl.pipeline import ModelPool, run_pipeline, write_run_info
from synthrl.rounds import plan, round_config, run_rounds, sampler, stages_for
from synthrl.stages import STAGES
from synthrl.task import load_task
from tests.fakes import PASSAGES, addends, base_model
from tests.reliability.world import EVAL_ITEMS, TASK, evaluated, instructor

OVERRIDES = {
    "models": {"base": "hf:fake-base"},
    "generate": {"n": 4},
    "verify": {"k": 3},
    "retrieve": {"per_keyword": 2},
    "select": {"m": 2},
    "score": {"samples": 8},
    "train": {"max_steps": 4, "save_steps": 1, "prompts_per_step": 1},
    "evaluate": {"limit": 8},
    "quality": {"min_parent_similarity": 0},  # no MiniLM load
}
ROUND_2 = [f"round-2/{s}" for s in ("probe", "adapt", "score", "select", "train")]
ROUND_1 = [s.name for s in STAGES if s.name != "evaluate"]


def trained_model(request: Request, index: int) -> str:
    """Round 1's model: solves sums below 100 always, below 1000 in one sample of three."""
    a, b = addends(request.messages[0][1])
    solves = a + b < 100 or (a + b < 1000 and index % 3 == 0)
    return f"#### {a + b}" if solves else f"#### {a + b + 1}"


class Trainer:
    """`train_grpo`'s stand-in: a checkpoint per step (trainer_state.json last), resumed from
    the newest; `crash_in`: raise once after the first checkpoint in a folder with that name."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.crash_in: str | None = None

    def __call__(self, model_path: str, rows: list, cfg: Any, out_dir: Path, *_: Any) -> dict:
        done = [int(p.name.split("-")[1]) for p in out_dir.glob("checkpoints/checkpoint-*")]
        start = max(done, default=0)
        self.calls.append({"model": model_path, "steps": cfg.max_steps, "resumed_at": start})
        with (out_dir / "metrics.jsonl").open("a") as fh:
            for step in range(start + 1, cfg.max_steps + 1):
                fh.write(json.dumps({"step": step, "reward": step / 10}) + "\n")
                folder = out_dir / "checkpoints" / f"checkpoint-{step}"
                folder.mkdir(parents=True)
                (folder / "trainer_state.json").write_text("{}")
                if self.crash_in and out_dir.match(self.crash_in):
                    self.crash_in = None
                    raise RuntimeError("killed mid-training")
        (out_dir / "model").mkdir(exist_ok=True)
        (out_dir / "model" / "weights.json").write_text(json.dumps({"from": model_path}))
        resumed = str(out_dir / f"checkpoints/checkpoint-{start}") if start else None
        return {"steps": cfg.max_steps, "resumed_from": resumed, "train_loss": 0.0}


class World:
    """The fakes of one test: instructor, base and trained models, trainer, warm-start and
    evaluation engine, with what each was asked."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root, self.cache = root, root / "calls.sqlite"
        (root / "passages.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
        (root / "eval.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVAL_ITEMS))
        self.task_path = root / "task.yaml"
        self.task_path.write_text(TASK)
        self.task = load_task(self.task_path)
        self.trainer, self.warmups, self.evaluated = Trainer(), [], []
        self.crash_score = False
        self._fake_training(monkeypatch)

    def _fake_training(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from synthrl.stages import evaluate

        def train_sft(model_path: str, rows: list, cfg: Any, folder: Path) -> dict:
            self.warmups.append(model_path)
            (folder / "model").mkdir(parents=True, exist_ok=True)
            return {}

        for name, attr, fake in (
            ("trl_grpo", "train_grpo", self.trainer),
            ("trl_sft", "train_sft", train_sft),
        ):
            module = ModuleType(f"synthrl.train.{name}")
            setattr(module, attr, fake)
            monkeypatch.setitem(sys.modules, f"synthrl.train.{name}", module)

        def eval_backend(config: Any, engine: str, hf_dir: str, label: str, *_: Any) -> Any:
            self.evaluated.append(hf_dir)
            trained = hf_dir.endswith("model")
            return FakeBackend(label, lambda r, i: evaluated(r, i, trained))

        monkeypatch.setattr(evaluate, "eval_backend", eval_backend)

    def run(
        self, rounds: int = 2, settings: dict | None = None, out: str = "run", **kwargs: Any
    ) -> tuple[list, dict[str, FakeBackend], Ledger]:
        overrides = {**OVERRIDES, "rounds": rounds, **(settings or {})}
        config = resolve_config("cpu", overrides=overrides)
        backends: dict[str, FakeBackend] = {}
        ledger, cache = Ledger(), CallCache(self.cache)

        def open_llm(spec: str) -> LLM:
            if spec not in backends:
                responder = self._responder(spec)
                backends[spec] = FakeBackend(spec, responder)
            return LLM(backends[spec], cache, ledger, spec, show_progress=False)

        run = RunDir(self.root / out)
        write_run_info(run, self.task_path, self.task, config)
        pool = ModelPool(config, open_llm, cache, ledger)
        try:
            reports = run_rounds(self.task, config, run, pool, ledger, **kwargs)
        finally:
            pool.close()
            cache.close()
        return reports, backends, ledger

    def _responder(self, spec: str) -> Any:
        if spec == "hf:fake-base":
            return base_model
        if not spec.endswith("/train/model"):
            return instructor
        scored = []

        def trained(request: Request, index: int) -> str:
            if request.temperature > 0 and index == request.first_sample:
                scored.append(request)
                if self.crash_score and len(scored) == 3:  # the third scoring request
                    self.crash_score = False
                    raise RuntimeError("killed mid-scoring")
            return trained_model(request, index)

        return trained


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return World(tmp_path, monkeypatch)


def test_two_rounds_write_round_artifacts_and_evaluate_the_last_model(world: World) -> None:
    reports, backends, _ = world.run(rounds=2)
    run = RunDir(world.root / "run")
    assert [r.stage for r in reports] == [*ROUND_1, *ROUND_2, "evaluate"]
    assert all(r.status == "ran" for r in reports)
    assert not (run.root / "round-1").exists()
    # round 2 probed round 1's pool with round 1's model, and its fingerprint hashes both
    trained_spec = f"hf:{(run.root / 'train' / 'model').resolve()}"
    assert set(backends) == {"embedded:instructor", "hf:fake-base", trained_spec}
    pool = run.rows("adapt", "samples.jsonl")
    probed = run.rows("round-2/probe", "samples.jsonl")
    assert [s["id"] for s in probed] == [s["id"] for s in pool]
    inputs = run.manifest("round-2/probe")["inputs"]
    assert inputs == {
        "pool": folder_digest(run.root / "adapt"),
        "base": folder_digest(run.root / "train"),
    }
    settings = run.manifest("round-2/probe")["settings"]
    assert (settings["base"], settings["sampled_on"]) == ("train/model", "transformers")
    # the rewrites of round 2 are new: no sample is rewritten twice in one direction
    adapted = [s["id"] for s in run.rows("round-2/adapt", "samples.jsonl")]
    assert len(adapted) == len(set(adapted)) > len(pool)
    assert {s["id"] for s in run.rows("round-2/select", "selected.jsonl")} <= set(adapted)
    # training: the steps split 2 + 2, round 2 from round 1's model, the warm-start in round 1 only
    steps = [(c["model"].rsplit("run/", 1)[-1], c["steps"]) for c in world.trainer.calls]
    assert steps == [("train/warmup/model", 2), ("train/model", 2)]
    assert len(world.warmups) == 1
    assert run.manifest("round-2/train")["settings"]["train"]["warmup_epochs"] == 0
    # the final evaluation compares the base with round 2's model
    assert world.evaluated == ["fake-base", str(run.root / "round-2" / "train" / "model")]
    assert run.manifest("evaluate")["inputs"] == {
        "train": folder_digest(run.root / "round-2/train")
    }


def test_a_copied_run_directory_resumes_as_it_is(world: World) -> None:
    """The previous round's model is in round 2's fingerprints by content, not by path."""
    import shutil

    world.run(rounds=2)
    shutil.copytree(
        world.root / "run", world.root / "copy", copy_function=shutil.copy
    )  # new mtimes
    reports, backends, _ = world.run(rounds=2, out="copy")
    assert {r.status for r in reports} == {"skipped"} and not backends


def test_each_round_can_be_evaluated(world: World) -> None:
    reports, _, _ = world.run(rounds=2, settings={"rounds_evaluate": True})
    names = [r.stage for r in reports]
    assert names.index("train") < names.index("round-1/evaluate") < names.index("round-2/probe")
    run = world.root / "run"
    assert world.evaluated[1::2] == [str(run / "train" / "model"), str(run / "round-2/train/model")]
    assert RunDir(run).manifest("round-1/evaluate")["counts"]["items"] == 8


def test_status_and_report_show_the_rounds(world: World) -> None:
    from synthrl.report.data import RunData
    from synthrl.report.per_round import rounds
    from synthrl.report.sections import stages
    from synthrl.run import load_status

    world.run(rounds=2)
    root = world.root / "run"
    status = {row["stage"]: row["manifest"] for row in load_status(root)}
    assert list(status)[-6:] == [*ROUND_2, "evaluate"] and all(status.values())
    html = rounds(RunData(root))
    assert "2 rounds" in html and "<img" in html
    assert html.count("<tr>") == 1 + 2  # header, rounds 1 and 2
    assert "0.1 -&gt; 0.2" in html  # each round's two steps of reward
    assert "<td>round-2/train</td>" in stages(RunData(root))


def test_report_shows_difficulty_and_training_for_each_round(world: World) -> None:
    from synthrl.report.data import RunData
    from synthrl.report.sections import difficulty, training

    world.run(rounds=2)
    root = world.root / "run"
    html = difficulty(RunData(root))
    assert "<h3>Round 1 (score)</h3>" in html and "<h3>Round 2 (round-2/score)</h3>" in html
    assert html.count("<img") == 2 and "under round 2&#x27;s base" in html
    after = sum(
        json.loads((root / "round-2/score/histograms.json").read_text())["after_adaptation"]
    )
    assert f"{after} after this round&#x27;s adaptation" in html
    html = training(RunData(root))
    assert html.count("<img") == 2 and "from round 1&#x27;s trained model" in html
    (root / "round-2/train/metrics.jsonl").unlink()
    html = training(RunData(root))
    assert "<h3>Round 1 (train)</h3>" in html and "<h3>Round 2 (round-2/train)</h3>" in html
    assert html.count("<img") == 1  # round 1's curves; round 2's says why it has none
    assert "not available: round-2/train/metrics.jsonl not found" in html


def test_training_up_to_the_last_round_trains_only_what_is_missing(world: World) -> None:
    """What `synthrl train RUN` runs on a run with rounds (--to the last round's train)."""
    world.run(rounds=2, stop="round-2/select")
    reports, backends, _ = world.run(rounds=2, stop="round-2/train")
    assert [r.stage for r in reports][-1] == "round-2/train"
    assert [r.stage for r in reports if r.status == "ran"] == ["round-2/train"]
    assert not any(b.calls for b in backends.values())
    run = world.root / "run"
    assert world.trainer.calls[-1]["model"] == str((run / "train" / "model").resolve())


def test_a_crash_in_round_two_resumes_without_paying_again(world: World) -> None:
    world.crash_score = True
    with pytest.raises(RuntimeError, match="mid-scoring"):
        world.run(rounds=2)
    run = RunDir(world.root / "run")
    assert run.manifest("round-2/adapt") and run.manifest("round-2/score") is None
    world.trainer.crash_in = "*/round-2/train"
    with pytest.raises(RuntimeError, match="mid-training"):
        world.run(rounds=2)
    assert run.manifest("round-2/select") and run.manifest("round-2/train") is None
    reports, backends, _ = world.run(rounds=2)
    status = {r.stage: r.status for r in reports}
    assert [s for s, v in status.items() if v == "ran"] == ["round-2/train", "evaluate"]
    assert all(not b.calls for b in backends.values())  # nothing asked again
    assert world.trainer.calls[-1]["resumed_at"] == 1  # round 2 resumed from its checkpoint
    assert world.trainer.calls[-1]["model"] == str((run.root / "train" / "model").resolve())


def test_the_second_run_pays_only_what_the_crash_cut_off(world: World) -> None:
    world.crash_score = True
    with pytest.raises(RuntimeError):
        world.run(rounds=2, stop="round-2/score")
    _, backends, ledger = world.run(rounds=2, stop="round-2/score")
    scored = ledger.rows[("round-2/score", next(s for s in backends if "train" in s))]
    assert scored.cache_hits == 2 * 4 and scored.requests > 0  # 2 requests x 4 samples were done
    assert not backends.get("embedded:instructor", FakeBackend()).calls


def test_one_round_is_the_pipeline_as_it_was(world: World, tmp_path: Path) -> None:
    config = resolve_config("cpu", overrides=OVERRIDES)
    old = RunDir(tmp_path / "old")
    assert [len(s.stages) for s in plan(config, old)] == [len(STAGES)]
    cache, ledger = CallCache(tmp_path / "old.sqlite"), Ledger()
    inst, base = FakeBackend("i", instructor), FakeBackend("b", base_model)

    def open_llm(spec: str) -> LLM:
        return LLM(base if spec == "hf:fake-base" else inst, cache, ledger, spec, False)

    run_pipeline(
        STAGES, world.task, config, old, ModelPool(config, open_llm), ledger, stop="select"
    )
    world.cache = tmp_path / "old.sqlite"
    cache.close()
    world.run(rounds=1, stop="select")
    new = RunDir(world.root / "run")
    assert sorted(p.name for p in new.root.iterdir() if p.is_dir()) == sorted(ROUND_1[:-1])
    for name in ROUND_1[:-1]:
        assert new.manifest(name)["fingerprint"] == old.manifest(name)["fingerprint"], name
    # with rounds, round 1's synthesis is the same: nothing reruns before train
    reports, _, _ = world.run(rounds=2, stop="select")
    assert {r.status for r in reports} == {"skipped"}


def test_steps_split_and_round_settings(tmp_path: Path) -> None:
    config = resolve_config("cpu", overrides={**OVERRIDES, "rounds": 3})
    steps = [round_config(config, tmp_path, r).train.max_steps for r in (1, 2, 3)]
    assert steps == [2, 1, 1] and sum(steps) == config.train.max_steps
    third = round_config(config, tmp_path, 3)
    assert third.models.base == f"hf:{(tmp_path / 'round-2' / 'train' / 'model').resolve()}"
    assert third.train.warmup_epochs == 0 and third.models.base_endpoint is None
    assert round_config(config, tmp_path, 1).train.warmup_epochs == config.train.warmup_epochs
    epochs = resolve_config("paper", overrides={"rounds": 2})
    assert round_config(epochs, tmp_path, 2).train.epochs == epochs.train.epochs / 2
    names = [s.name for s in stages_for({"rounds": 2, "rounds_evaluate": True})]
    assert names[-7:] == ["round-1/evaluate", *ROUND_2, "evaluate"]
    assert [s.name for s in stages_for({"rounds": "x"})] == [s.name for s in STAGES]


def test_a_gguf_base_samples_the_round_model_through_llamacpp(monkeypatch) -> None:
    from synthrl.export import gguf

    monkeypatch.setattr(gguf, "cached_gguf", lambda folder, template, dtype: Path(f"/c/{dtype}"))
    overrides = {"rounds": 2, "models": {"base": "gguf:/m/base.gguf"}}
    config = resolve_config("cpu", overrides={**overrides, "evaluate": {"engine": "llamacpp"}})
    second = round_config(config, Path("/r"), 2)
    translate = sampler(config, second)
    assert translate(second.models.base) == "gguf:/c/q8_0"
    assert translate("embedded:instructor") == "embedded:instructor"
    vllm = resolve_config("cpu", overrides={"rounds": 2, "models": {"base": "vllm:Qwen/Q"}})
    assert (
        sampler(vllm, round_config(vllm, Path("/r"), 2))("hf:/r/train/model")
        == "vllm:/r/train/model"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rounds": 0}, "greater than or equal to 1"),
        ({"rounds": 2, "train": {"data": "x.jsonl"}}, "continues GRPO with TRL"),
        ({"rounds": 2, "train": {"engine": "verl"}}, "train.engine=verl"),
        ({"rounds": 5}, r"raise train.max_steps to 5"),
    ],
)
def test_rounds_settings_are_checked(overrides: dict, message: str) -> None:
    with pytest.raises(TaskFileError, match=message):
        resolve_config("cpu", overrides=overrides)


def test_unknown_round_stages_are_refused(world: World) -> None:
    with pytest.raises(SynthRLError, match="unknown stage 'round-3/probe'"):
        world.run(rounds=2, stop="round-3/probe")


def test_the_forecast_counts_each_round(world: World, monkeypatch) -> None:
    from synthrl import forecast

    monkeypatch.setattr(forecast, "gpu", lambda: False)
    config = resolve_config("cpu", overrides={**OVERRIDES, "rounds": 2})
    fc = forecast.plan_forecast(world.task, config, RunDir(world.root / "run"))
    rows = {(r.stage, r.what): r for r in fc.rows}
    assert rows[("round-2/probe", "greedy answers")].requests == 2 * config.generate.n
    assert rows[("round-2/train", "GRPO steps (1 x 6 rollouts)")].requests == 2
    assert rows[("train", "GRPO steps (1 x 6 rollouts)")].requests == 2
