"""A small but complete run directory for the report tests: keywords ... select run by the
pipeline on a scripted fake instructor and base model (as in tests/stages/test_synthesis.py),
then hand-written train/ and evaluate/ artifacts in their documented shapes. A `<script>` is
planted in the harder rewrites' inputs and in a completion, to check escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from synthrl.artifacts import RunDir, write_json, write_jsonl
from synthrl.config import resolve_config
from synthrl.evaluate.compare import compare
from synthrl.evaluate.metrics import wilson
from synthrl.llm import LLM, CallCache, Ledger, Request
from synthrl.llm.fake import FakeBackend
from synthrl.pipeline import ModelPool, run_pipeline, write_run_info
from synthrl.stages import STAGES
from synthrl.task import load_task
from tests.fakes import ADDER_TASK, PASSAGES, base_model, question

PLANTED = "<script>alert('planted')</script>"


TASK = ADDER_TASK

EVAL_ITEMS = [
    {
        "id": f"e{i}",
        "question": f"Sam has {i} pens and finds {i + 2} more. How many pens?",
        "answer": f"{i} + {i + 2} = {2 * i + 2}\n#### {2 * i + 2}",
    }
    for i in range(1, 13)
]


def instructor(request: Request, index: int) -> str:
    prompt = request.messages[0][1]
    if prompt.startswith("You are an expert in the domain"):
        return '["fraction", "percentage", "apple"]'
    if prompt.startswith("As a Dataset Generator"):
        title = re.search(r"refer to: (\w+):", prompt).group(1)
        a = {"Fraction": 2, "Percentage": 3, "Addition": 4, "Apple": 5}[title]
        b = 100 if title == "Addition" else 3  # 4 + 100: too hard for the base -> easier
        return json.dumps({"input": question(a, b), "output": f"{a} + {b} = {a + b}\n#### {a + b}"})
    if "overly simplistic" in prompt or "too challenging" in prompt:
        a, b = map(int, re.findall(r"has (\d+) apples and buys (\d+)", prompt)[0])
        a, b = (a * 10, b * 7) if "overly simplistic" in prompt else (1, 1)
        text = question(a, b) + (f" {PLANTED}" if a > 10 else "")
        return json.dumps({"input": text, "output": f"#### {a + b}"})
    a, b = map(int, re.findall(r"has (\d+) apples and buys (\d+)", prompt)[0])
    if a == 3:  # a disputed sample: the k votes disagree, verify drops it
        return f"#### {a + b + index}"
    return f"{a} plus {b} is {a + b}.\n#### {a + b}"


def synthesise(root: Path) -> RunDir:
    """Run keywords ... select on the fakes into `root`/run."""
    (root / "passages.jsonl").write_text("".join(json.dumps(p) + "\n" for p in PASSAGES))
    (root / "eval.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVAL_ITEMS))
    task_path = root / "task.yaml"
    task_path.write_text(TASK)
    overrides = {
        "models": {"base": "hf:fake-base"},
        "generate": {"n": 4},
        "verify": {"k": 3},
        "retrieve": {"per_keyword": 2},
        "select": {"m": 2},
        "score": {"samples": 12},
    }
    config = resolve_config("cpu", overrides=overrides)
    inst, base = FakeBackend("inst", instructor), FakeBackend("base", base_model)
    ledger, cache = Ledger(), CallCache(root / "calls.sqlite")

    def open_llm(spec: str) -> LLM:
        backend = base if spec == "hf:fake-base" else inst
        return LLM(backend, cache, ledger, spec, show_progress=False)

    run, task = RunDir(root / "run"), load_task(task_path)
    write_run_info(run, task_path, task, config)
    run_pipeline(STAGES, task, config, run, ModelPool(config, open_llm), ledger, stop="select")
    return run


def manifest(stage: str, counts: dict[str, int], files: list[str]) -> dict[str, object]:
    usage = [
        {
            "stage": stage,
            "model": "hf:fake-base",
            "requests": 24,
            "samples": 24,
            "cache_hits": 2,
            "prompt_tokens": 1200,
            "completion_tokens": 3400,
            "wall_s": 9.5,
            "cost_usd": 0.0,
        }
    ]
    return {
        "stage": stage,
        "fingerprint": "0" * 16,
        "version": 1,
        "inputs": {},
        "settings": {},
        "counts": counts,
        "drops": {},
        "notes": [],
        "usage": usage,
        "files": files,
        "started": 0.0,
        "wall_s": 12.0,
    }


def write_training(run: RunDir) -> None:
    folder = run.begin("train")
    metrics = [
        {
            "step": s,
            "epoch": s / 4,
            "reward": 0.2 + 0.05 * s,
            "reward_std": 0.3,
            "kl": 0.001 * s,
            "completion_length": 90 - s,
            "loss": 0.01 * (5 - s),
            "learning_rate": 1e-4,
            "seconds": s,
        }
        for s in range(1, 5)
    ]
    write_jsonl(folder / "metrics.jsonl", metrics)
    run.finish("train", manifest("train", {"rows": 2, "steps": 4}, ["metrics.jsonl"]))


def write_evaluation(run: RunDir) -> None:
    """Base right on items 0-3, trained right on 0-9 (strict: items 0-9 for trained only)."""
    folder = run.begin("evaluate")
    n = len(EVAL_ITEMS)
    golds = [str(2 * i + 2) for i in range(1, n + 1)]
    correct = {"base": [i < 4 for i in range(n)], "trained": [i < 10 for i in range(n)]}
    strict = {"base": [False] * n, "trained": correct["trained"]}
    results, predictions = {}, []
    for model in ("base", "trained"):
        lenient, st = correct[model], strict[model]
        results[model] = {
            "items": n,
            "seeds": [0],
            "lenient_mean": sum(lenient) / n,
            "lenient_std": 0.0,
            "strict_mean": sum(st) / n,
            "strict_std": 0.0,
            "lenient_wilson": wilson(sum(lenient), n),
            "strict_wilson": wilson(sum(st), n),
            "lenient_by_item": lenient,
            "strict_by_item": st,
        }
        for i, (gold, ok, s) in enumerate(zip(golds, lenient, st, strict=True)):
            answer = gold if ok else "7"
            text = f"{PLANTED} so \\boxed{{{answer}}}" if not s else f"Sum.\n#### {answer}"
            predictions.append(
                {
                    "model": model,
                    "id": f"e{i + 1}",
                    "gold": gold,
                    "seed": 0,
                    "completion": text,
                    "answer": answer,
                    "correct": ok,
                    "strict": s,
                }
            )
    results["comparison"] = compare(results["base"], results["trained"])
    write_json(folder / "results.json", results)
    write_jsonl(folder / "predictions.jsonl", predictions)
    files = ["predictions.jsonl", "results.json"]
    run.finish("evaluate", manifest("evaluate", {"items": n}, files))


@pytest.fixture(scope="session")
def complete_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory with every stage's artifacts (treat as read-only; copy to modify)."""
    run = synthesise(tmp_path_factory.mktemp("report-run"))
    write_training(run)
    write_evaluation(run)
    return run.root


@pytest.fixture(scope="session")
def complete_report(complete_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of `complete_run`, built once."""
    from synthrl.report import build_report

    return build_report(complete_run, tmp_path_factory.mktemp("report-out") / "report.html")
