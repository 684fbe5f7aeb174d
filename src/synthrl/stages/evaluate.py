"""evaluate: base and trained model, zero-shot, on the task's declared evaluation set (real,
human-written data), with the task's prompt and the answer checker; strict (required format) and
lenient accuracy, Wilson intervals, paired-bootstrap difference and McNemar wins/losses (paper 5.3).
Both models run on the same engine (transformers in fp32 on a CPU, vLLM when the base is a
`vllm:` spec) from the same starting weights, so the only difference between them is training.

Writes `evaluate/results.json` and `evaluate/predictions.jsonl`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from synthrl.artifacts import write_json, write_jsonl
from synthrl.config import RunConfig
from synthrl.evaluate.compare import compare
from synthrl.evaluate.engines import engine_for, eval_backend
from synthrl.evaluate.loaders import task_items
from synthrl.evaluate.runner import evaluate
from synthrl.fingerprint import digest
from synthrl.llm.client import LLM
from synthrl.llm.registry import weights_tag
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.task import Task
from synthrl.train.model_path import trainable_path


def run(ctx: StageContext) -> StageOutput:
    cfg = ctx.config.evaluate
    found = task_items(ctx.task, cfg.limit)
    if found is None:
        write_json(ctx.out_dir / "results.json", {"skipped": "no evaluation set declared"})
        return StageOutput({"items": 0}, notes=["the task declares no `evaluation:`; skipped"])
    items, source = found
    base_path = trainable_path(ctx.config.models.base)
    trained_path = str(ctx.run.stage_dir("train") / "model")
    models = {  # labels carry a weights tag: a retrained model is never answered from the cache
        "base": (base_path, f"{ctx.config.models.base}#hf{weights_tag(base_path)}"),
        "trained": (trained_path, f"trained{weights_tag(trained_path)}"),
    }
    results: dict[str, Any] = {"engine": engine_for(ctx.config)}
    predictions = []
    for name, (path, label) in models.items():
        backend = eval_backend(ctx.config, results["engine"], path, label, name)
        llm = LLM(backend, ctx.models.cache, ctx.models.ledger, label)
        summary = evaluate(llm, ctx.task, items, cfg, stage=ctx.stage)
        sampler = backend.sampler_settings()
        summary["sampler"] = {k: v for k, v in sampler.items() if k != "temperature"}
        predictions += [{"model": name, **p} for p in summary.pop("predictions")]
        results[name] = summary
        backend.close()
    results["comparison"] = compare(results["base"], results["trained"])
    results["source"] = source
    write_json(ctx.out_dir / "results.json", results)
    write_jsonl(ctx.out_dir / "predictions.jsonl", predictions)
    c = results["comparison"]
    counts = {
        "items": len(items),
        "wins_strict": c["strict"]["wins"],
        "losses_strict": c["strict"]["losses"],
    }
    return StageOutput(counts, notes=[f"evaluated on {len(items)} items of {source}"])


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    found = task_items(task, config.evaluate.limit)
    return {
        "evaluate": config.evaluate.model_dump(),
        "evaluation": task.evaluation.model_dump() if task.evaluation else None,
        # which file was used (the benchmark or its fallback) and what it holds
        "items": None if found is None else [found[1], digest([asdict(i) for i in found[0]])],
        "task": task.fingerprint(),
        "base": config.models.base,
        "engine": engine_for(config),
    }


STAGE = Stage(
    "evaluate",
    run,
    settings,
    inputs=("train",),
    summary="base vs trained on real data",
    models=("base",),
    prompts=("solve",),
    own_engine=True,
)
