"""evaluate: base and trained model, zero-shot, on the task's declared evaluation set (real,
human-written data), with the task's prompt and the answer checker; strict (required format) and
lenient accuracy, Wilson intervals, paired-bootstrap difference and McNemar wins/losses (paper 5.3).
Both models run through transformers in fp32 (the base from the same weights training started
from), so the only difference between them is the training.

Writes `evaluate/results.json` and `evaluate/predictions.jsonl`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthrl.artifacts import write_json, write_jsonl
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.evaluate.compare import compare
from synthrl.evaluate.loaders import EvalItem, load_benchmark, load_items
from synthrl.evaluate.runner import EvalSettings, evaluate
from synthrl.llm.client import LLM
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.task import Task
from synthrl.train.model_path import trainable_path


def task_items(task: Task, limit: int | None) -> tuple[list[EvalItem], str] | None:
    """The task's evaluation items and where they came from, or None when it declares no
    evaluation set. A built-in benchmark whose data is missing falls back to `fallback_path`."""
    spec = task.evaluation
    if spec is None:
        return None
    limit = spec.limit or limit
    if spec.benchmark:
        try:
            return load_benchmark(spec.benchmark, limit), f"benchmark {spec.benchmark}"
        except SynthRLError:
            if not spec.fallback_path:
                raise
        return local_items(task, spec.fallback_path, spec.fields, limit)
    if spec.path:
        return local_items(task, spec.path, spec.fields, limit)
    raise SynthRLError("`evaluation:` needs `benchmark:` or `path:` in the task file")


def local_items(
    task: Task, name: str, fields: dict[str, str], limit: int | None
) -> tuple[list[EvalItem], str]:
    path = Path(name)
    if not path.is_absolute() and task.base_dir is not None:
        path = task.base_dir / path
    mapping = {"question": "question", "answer": "answer", **fields}
    return load_items(str(path), mapping, limit), str(path)


def run(ctx: StageContext) -> StageOutput:
    cfg = ctx.config.evaluate
    found = task_items(ctx.task, cfg.limit)
    if found is None:
        write_json(ctx.out_dir / "results.json", {"skipped": "no evaluation set declared"})
        return StageOutput({"items": 0}, notes=["the task declares no `evaluation:`; skipped"])
    items, source = found
    from synthrl.llm.transformers_backend import TransformersBackend

    settings = EvalSettings(tuple(cfg.seeds), cfg.temperature, cfg.max_tokens)
    train_fp = (ctx.run.manifest("train") or {}).get("fingerprint", "")
    models = {
        "base": (trainable_path(ctx.config.models.base), f"{ctx.config.models.base}#hf"),
        "trained": (str(ctx.run.stage_dir("train") / "model"), f"trained@{train_fp}"),
    }
    results: dict[str, Any] = {}
    predictions = []
    for name, (path, label) in models.items():
        backend = TransformersBackend(path, label, ctx.config.llm.threads, cfg.batch_size)
        llm = LLM(backend, ctx.models.cache, ctx.models.ledger, label)
        summary = evaluate(llm, ctx.task, items, settings, stage="evaluate")
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
    return {
        "evaluate": config.evaluate.model_dump(),
        "evaluation": task.evaluation.model_dump() if task.evaluation else None,
        "task": task.fingerprint(),
        "base": config.models.base,
    }


STAGE = Stage("evaluate", run, settings, inputs=("train",), summary="base vs trained on real data")
