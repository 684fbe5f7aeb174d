"""The runner: manifests written last, skip on unchanged fingerprint, --force/--from/--to,
accounting in manifests, and the keywords stage on a scripted fake instructor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synthrl.artifacts import RunDir
from synthrl.config import resolve_config
from synthrl.errors import SynthRLError
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.fake import FakeBackend
from synthrl.pipeline import ModelPool, Stage, StageContext, StageOutput, run_pipeline
from synthrl.stages import STAGES
from synthrl.stages.keywords import parse_keywords
from synthrl.task import load_task
from tests.conftest import GOOD_TASK


def counting_stage(name: str, inputs: tuple[str, ...], calls: list[str]) -> Stage:
    def run(ctx: StageContext) -> StageOutput:
        calls.append(name)
        (ctx.out_dir / "data.jsonl").write_text('{"x": 1}\n')
        return StageOutput(counts={"rows": 1})

    return Stage(name, run, lambda task, cfg: {"n": cfg.generate.n}, inputs)


def pool_for(
    config, backend: FakeBackend, ledger: Ledger, cache: CallCache | None = None
) -> ModelPool:
    return ModelPool(config, lambda spec: LLM(backend, cache, ledger, spec, show_progress=False))


def test_skip_force_from_to(write_task, tmp_path: Path) -> None:
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu")
    calls: list[str] = []
    stages = [
        counting_stage("a", (), calls),
        counting_stage("b", ("a",), calls),
        counting_stage("c", ("b",), calls),
    ]
    run = RunDir(tmp_path / "run")
    pool = pool_for(config, FakeBackend(), Ledger())
    reports = run_pipeline(stages, task, config, run, pool, Ledger())
    assert [r.status for r in reports] == ["ran"] * 3 and calls == ["a", "b", "c"]
    assert json.loads((run.root / "b" / "manifest.json").read_text())["counts"] == {"rows": 1}
    assert [r.status for r in run_pipeline(stages, task, config, run, pool, Ledger())] == [
        "skipped"
    ] * 3
    run_pipeline(stages, task, config, run, pool, Ledger(), start="b")
    assert calls[3:] == ["b", "c"]
    run_pipeline(stages, task, config, run, pool, Ledger(), stop="a", force=True)
    assert calls[5:] == ["a"]
    # A changed setting changes the fingerprint of every stage: all rerun.
    changed = resolve_config("cpu", overrides={"generate": {"n": 3}})
    run_pipeline(stages, task, changed, run, pool, Ledger())
    assert calls[6:] == ["a", "b", "c"]
    with pytest.raises(SynthRLError, match="unknown stage 'zz'"):
        run_pipeline(stages, task, config, run, pool, Ledger(), stop="zz")


def test_crashed_stage_leaves_no_manifest(write_task, tmp_path: Path) -> None:
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu")

    def boom(ctx: StageContext) -> StageOutput:
        raise RuntimeError("crash")

    run = RunDir(tmp_path / "run")
    with pytest.raises(RuntimeError):
        run_pipeline(
            [Stage("x", boom, lambda t, c: {})],
            task,
            config,
            run,
            pool_for(config, FakeBackend(), Ledger()),
            Ledger(),
        )
    assert run.manifest("x") is None


def test_keywords_stage_with_fake_instructor(write_task, tmp_path: Path) -> None:
    task = load_task(write_task(GOOD_TASK + "keywords: [fractions]\n"))
    config = resolve_config("cpu")
    backend = FakeBackend().enqueue(
        "Sure!", '```json\n["Percentages", "fractions", "unit price",]\n```'
    )
    ledger = Ledger()
    cache = CallCache(tmp_path / "c.sqlite")
    run = RunDir(tmp_path / "run")
    run_pipeline(
        STAGES, task, config, run, pool_for(config, backend, ledger, cache), ledger, stop="keywords"
    )
    rows = run.rows("keywords", "keywords.jsonl")
    assert rows == [
        {"keyword": "fractions", "source": "task"},
        {"keyword": "Percentages", "source": "instructor"},
        {"keyword": "unit price", "source": "instructor"},
    ]
    manifest = run.manifest("keywords")
    assert manifest["drops"] == {"unparseable_reply": 1}
    assert manifest["usage"][0]["requests"] == 2
    # Forced rerun: both replies come from the cache, nothing is generated again.
    ledger2 = Ledger()
    run_pipeline(
        STAGES,
        task,
        config,
        run,
        pool_for(config, FakeBackend(), ledger2, cache),
        ledger2,
        force=True,
        stop="keywords",
    )
    assert ledger2.total().cache_hits == 2 and ledger2.total().requests == 0


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('["a", "b"]', ["a", "b"]),
        ("Keywords: ['x y', 'z']", ["x y", "z"]),
        ("1. algebra\n2. geometry\n- ratios", ["algebra", "geometry", "ratios"]),
        ("algebra, fractions, decimals", ["algebra", "fractions", "decimals"]),
    ],
)
def test_parse_keywords(reply: str, expected: list[str]) -> None:
    assert parse_keywords(reply) == expected


def test_one_engine_at_a_time_between_stages(write_task, tmp_path: Path) -> None:
    """Before a stage runs, engines it does not use are closed (a GPU holds one at a time), and
    everything is closed before a stage that loads its own model (train, evaluate)."""
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu", overrides={"models": {"instructor": "hf:i", "base": "hf:b"}})
    opened: list[str] = []
    closed: list[str] = []

    class Tracked(LLM):
        def close(self) -> None:
            closed.append(self.label)

    def open_llm(spec: str) -> LLM:
        opened.append(spec)
        return Tracked(FakeBackend(responder=lambda r, i: "ok"), None, Ledger(), spec, False)

    def uses(role: str):
        def run(ctx: StageContext) -> StageOutput:
            ctx.generate(role, [Request.chat([{"role": "user", "content": "hi"}])])
            return StageOutput({})

        return run

    stages = [
        Stage("gen", uses("instructor"), lambda t, c: {}, models=("instructor",)),
        Stage("gen2", uses("instructor"), lambda t, c: {}, models=("instructor",)),
        Stage("plain", lambda ctx: StageOutput({}), lambda t, c: {}),
        Stage("probe", uses("base"), lambda t, c: {}, models=("base",)),
        Stage("train", lambda ctx: StageOutput({}), lambda t, c: {}, own_engine=True),
    ]
    pool = ModelPool(config, open_llm)
    run = RunDir(tmp_path / "run")
    run_pipeline(stages, task, config, run, pool, Ledger())
    assert opened == ["hf:i", "hf:b"]  # the instructor stays open across its stages
    sampler = run.manifest("probe")["samplers"]["base"]  # recorded beside what it generated
    assert (sampler["top_k"], sampler["top_p"], sampler["min_p"]) == (0, 1.0, 0.0)
    assert closed == ["hf:i", "hf:b"]  # closed before probe; the base before train


def test_only_rank_zero_writes_run_files(write_task, tmp_path: Path, monkeypatch) -> None:
    """Under `accelerate launch`, every rank runs the stage, rank 0 alone writes manifests."""
    task = load_task(write_task(GOOD_TASK))
    config = resolve_config("cpu")
    calls: list[str] = []
    monkeypatch.setenv("RANK", "1")
    run = RunDir(tmp_path / "run")
    run_pipeline(
        [counting_stage("a", (), calls)],
        task,
        config,
        run,
        pool_for(config, FakeBackend(), Ledger()),
        Ledger(),
    )
    assert calls == ["a"] and run.manifest("a") is None
    monkeypatch.setenv("RANK", "0")
    run_pipeline(
        [counting_stage("a", (), calls)],
        task,
        config,
        run,
        pool_for(config, FakeBackend(), Ledger()),
        Ledger(),
    )
    assert run.manifest("a") is not None
