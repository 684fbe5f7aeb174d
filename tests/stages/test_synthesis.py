"""keywords -> retrieve -> pattern -> generate -> verify -> probe -> adapt on a scripted fake
instructor and base model and a small JSONL passage library: parsing and retries, majority-vote
labels and drops, duplicates, probe verdicts, harder/easier rewrites with parents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from synthrl.artifacts import RunDir
from synthrl.config import resolve_config
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.fake import FakeBackend
from synthrl.pipeline import ModelPool, run_pipeline
from synthrl.stages import STAGES
from synthrl.task import load_task
from tests.fakes import PASSAGES, base_model, question

TASK = """\
name: adder
description: Solve short arithmetic word problems about sums, step by step.
output_format: "Let's think step by step and output the final answer after ####."
answer: {{kind: number}}
keywords: [addition]
library: {{source: {library}, text_field: text, title_field: title}}
{demos}
"""


def instructor(request: Request, index: int) -> str:
    prompt = request.messages[0][1]
    if prompt.startswith("You are an expert in the domain"):
        return '["fraction", "percentage", "apple"]'
    if prompt.startswith("Here are some examples"):
        return "Inputs are short word problems about adding two counts; outputs end with #### N."
    if prompt.startswith("As a Dataset Generator"):
        title = re.search(r"refer to: (\w+):", prompt).group(1)
        if title == "Percentage" and index == 0:
            return "I cannot produce JSON, sorry."  # parsed on the retry (index 1)
        a = {"Fraction": 2, "Percentage": 3, "Addition": 4, "Apple": 2}[title]
        b = 3 if title != "Addition" else 30
        return json.dumps({"input": question(a, b), "output": f"{a} + {b} = {a + b}\n#### {a + b}"})
    if "overly simplistic" in prompt or "too challenging" in prompt:
        a, b = map(int, re.findall(r"has (\d+) apples and buys (\d+)", prompt)[0])
        a, b = (a * 10, b * 7) if "overly simplistic" in prompt else (1, 1)
        return repr({"input": question(a, b), "output": f"#### {a + b}"})
    a, b = map(int, re.findall(r"has (\d+) apples and buys (\d+)", prompt)[0])
    if a == 4:  # a disputed sample: the k votes disagree
        return f"#### {a + b + index}"
    return f"{a} plus {b} is {a + b}.\n#### {a + b}"


@pytest.fixture
def library(tmp_path: Path) -> Path:
    path = tmp_path / "passages.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
    return path


def run_all(
    tmp_path: Path,
    library: Path,
    demos: str = "",
    stop: str = "select",
    responder=instructor,
    **overrides,
):
    task_path = tmp_path / "task.yaml"
    task_path.write_text(TASK.format(library=library, demos=demos))
    task = load_task(task_path)
    config = resolve_config(
        "cpu",
        overrides={
            "models": {"base": "hf:fake-base"},
            "generate": {"n": 4},
            "verify": {"k": 3},
            "retrieve": {"per_keyword": 2},
            "select": {"m": 2},
            "score": {"samples": 12},
            **overrides,
        },
    )
    inst, base = FakeBackend("inst", responder), FakeBackend("base", base_model)
    ledger = Ledger()
    cache = CallCache(tmp_path / "calls.sqlite")

    def open_llm(spec: str) -> LLM:
        backend = base if spec == "hf:fake-base" else inst
        return LLM(backend, cache, ledger, spec, show_progress=False)

    run = RunDir(tmp_path / "run")
    pool = ModelPool(config, open_llm)
    reports = run_pipeline(STAGES, task, config, run, pool, ledger, stop=stop)
    return run, reports, inst, base


def test_synthesis_end_to_end_on_fakes(tmp_path: Path, library: Path) -> None:
    run, reports, inst, _ = run_all(tmp_path, library)
    assert [r.status for r in reports] == ["ran"] * 9
    passages = run.rows("retrieve", "passages.jsonl")
    assert {p["title"] for p in passages} >= {"Fraction", "Percentage", "Apple"}
    assert json.loads((run.stage_dir("pattern") / "pattern.json").read_text())["pattern"] is None

    generated = run.rows("generate", "samples.jsonl")
    gen_manifest = run.manifest("generate")
    assert gen_manifest["counts"]["parsed_after_retry"] == 1
    # Fraction and Apple passages both yield "2 apples + 3": one is an exact duplicate. This
    # instructor repeats itself for a passage, so the three top-up rounds (one request each)
    # only add duplicates, and the stage ends short, saying so.
    assert gen_manifest["drops"] == {"exact_duplicate": 4}
    assert gen_manifest["counts"]["topup_rounds"] == 3
    assert gen_manifest["counts"]["topup_requests"] == 3
    assert len(generated) == 3 and "only 3 of 4 samples" in gen_manifest["notes"][0]

    verified = run.rows("verify", "samples.jsonl")
    assert run.manifest("verify")["drops"] == {"low_agreement": 1}  # the disputed "4 + 30"
    assert all(s["label"] == str(apples_total(s["input"])) for s in verified)
    assert all(s["agreement"] == 1.0 and s["reference"].endswith(s["label"]) for s in verified)

    probed = run.rows("probe", "samples.jsonl")
    assert all(p["solved"] for p in probed)  # 2+3 and 3+3 are below 10: the fake base solves them

    # The rewrite prompts show each parent with its verified solution (the winning vote).
    rewrites = [r.messages[0][1] for r in inst.calls if "overly simplistic" in r.messages[0][1]]
    assert len(rewrites) == len(probed)
    assert all(repr(p["reference"]) in text for p, text in zip(probed, rewrites, strict=True))

    synthetic = run.rows("adapt", "samples.jsonl")
    harder = [s for s in synthetic if s["origin"] == "harder"]
    assert len(harder) == len(probed) and all(
        s["parent"] in {p["id"] for p in probed} for s in harder
    )
    assert all(apples_total(s["input"]) > 10 for s in harder)
    assert run.manifest("adapt")["counts"] == {"initial": 2, "harder": 2, "easier": 0}

    scores = {r["id"]: r for r in run.rows("score", "scores.jsonl")}
    assert all(scores[p["id"]]["pass_rate"] == 1.0 for p in probed)
    assert all(0 < scores[h["id"]]["pass_rate"] < 1 for h in harder)
    # Adaptive (cpu preset): the always-solved initial samples stop after the first round.
    assert all(scores[p["id"]]["attempts"] < 12 for p in probed)
    selected = run.rows("select", "selected.jsonl")
    assert {s["id"] for s in selected} == {h["id"] for h in harder}
    ranking = run.rows("select", "ranking.jsonl")
    assert [r["selected"] for r in ranking] == [True, True, False, False]
    histograms = json.loads((run.stage_dir("score") / "histograms.json").read_text())
    assert sum(histograms["initial"]) == 2 and sum(histograms["after_adaptation"]) == 4


def test_generate_tops_up_to_n(tmp_path: Path, library: Path) -> None:
    """An instructor that writes a new problem when a passage comes round again: the duplicate
    is replaced by one top-up request (the next passage of the cycle, its own sample index)."""

    def varied(request: Request, index: int) -> str:
        reply = instructor(request, index)
        cycle = index // 3  # parse_retries + 1 sample indices per request
        if cycle and request.messages[0][1].startswith("As a Dataset Generator"):
            sample = json.loads(reply)
            sample["input"] = sample["input"].replace("buys", f"buys {cycle} and then")
            return json.dumps(sample)
        return reply

    run, _, inst, _ = run_all(tmp_path, library, stop="generate", responder=varied)
    manifest = run.manifest("generate")
    assert len(run.rows("generate", "samples.jsonl")) == 4 and manifest["notes"] == []
    assert manifest["counts"]["topup_rounds"] == 1 and manifest["counts"]["topup_requests"] == 1
    assert manifest["drops"] == {"exact_duplicate": 1}
    generation = [r for r in inst.calls if r.messages[0][1].startswith("As a Dataset Generator")]
    # 4 first requests, 1 retry (the Percentage passage), 1 top-up: passage 0 again, sample 3.
    assert len(generation) == 6
    assert generation[-1].messages == generation[0].messages
    assert generation[-1].first_sample == 3


def test_generate_without_topup_rounds_ends_short(tmp_path: Path, library: Path) -> None:
    run, _, _, _ = run_all(tmp_path, library, stop="generate", generate={"n": 4, "topup_rounds": 0})
    manifest = run.manifest("generate")
    assert manifest["counts"]["topup_rounds"] == 0 and manifest["counts"]["topup_requests"] == 0
    assert manifest["drops"] == {"exact_duplicate": 1} and len(manifest["notes"]) == 1


def apples_total(text: str) -> int:
    a, b = map(int, re.findall(r"has (\d+) apples and buys (\d+)", text)[0])
    return a + b


def test_demos_make_a_pattern_that_reaches_every_generation_prompt(
    tmp_path: Path, library: Path
) -> None:
    demos = (
        'demos:\n  - {input: "Tom has 1 apple and buys 2 more. How many?", '
        'output: "1 + 2 = 3\\n#### 3"}'
    )
    run, _, inst, _ = run_all(tmp_path, library, demos=demos)
    pattern = json.loads((run.stage_dir("pattern") / "pattern.json").read_text())["pattern"]
    assert pattern.startswith("Inputs are short word problems")
    generation = [r for r in inst.calls if r.messages[0][1].startswith("As a Dataset Generator")]
    assert generation and all(
        pattern in r.messages[0][1] and "Tom has 1 apple" in r.messages[0][1] for r in generation
    )


def test_rerun_is_skipped_and_forced_rerun_is_free(tmp_path: Path, library: Path) -> None:
    run_all(tmp_path, library)
    _, reports, inst, base = run_all(tmp_path, library)
    assert [r.status for r in reports] == ["skipped"] * 9 and not inst.calls and not base.calls


def test_adaptation_can_be_disabled(tmp_path: Path, library: Path) -> None:
    run, _, _, _ = run_all(tmp_path, library, adapt={"enabled": False})
    assert {s["origin"] for s in run.rows("adapt", "samples.jsonl")} == {"initial"}


def test_crash_mid_score_loses_no_completed_work(tmp_path: Path, library: Path) -> None:
    run_all(tmp_path, library, select={"m": 2}, score={"adaptive": False, "samples": 6})
    run = RunDir(tmp_path / "run")
    before = run.rows("score", "scores.jsonl")
    # Rerun score with a base model that dies after two requests: the run fails, no manifest.
    calls = {"n": 0}

    def dying(request: Request, index: int) -> str:
        calls["n"] += 1
        if calls["n"] > 6 * 2:
            raise RuntimeError("killed")
        return base_model(request, index)

    task = load_task(tmp_path / "task.yaml")
    config = resolve_config(
        "cpu",
        overrides={
            "models": {"base": "hf:fake-base"},
            "generate": {"n": 4},
            "verify": {"k": 3},
            "retrieve": {"per_keyword": 2},
            "select": {"m": 2},
            "score": {"adaptive": False, "samples": 6, "temperature": 0.9},
        },
    )
    cache = CallCache(tmp_path / "calls.sqlite")
    ledger = Ledger()

    def pool(backend: FakeBackend) -> ModelPool:
        inst = FakeBackend("inst", instructor)
        return ModelPool(
            config,
            lambda spec: LLM(
                backend if spec == "hf:fake-base" else inst,
                cache,
                ledger,
                spec,
                show_progress=False,
            ),
        )

    with pytest.raises(RuntimeError, match="killed"):
        run_pipeline(
            STAGES, task, config, run, pool(FakeBackend("base", dying)), ledger, stop="select"
        )
    assert run.manifest("score") is None
    # The rerun pays only for the two samples whose completions were not finished.
    fresh = FakeBackend("base", base_model)
    run_pipeline(STAGES, task, config, run, pool(fresh), ledger, stop="select")
    assert len(fresh.calls) == len(before) - 2
    assert len(run.rows("score", "scores.jsonl")) == len(before)
