"""evaluate: base and trained model, zero-shot, on the task's declared evaluation set (real,
human-written data), with the task's prompt and the answer checker; strict (required format) and
lenient accuracy, Wilson intervals, paired-bootstrap difference and McNemar wins/losses (paper 5.3).
Both models run on the same engine (transformers in fp32 on a CPU, vLLM when the base is a
`vllm:` spec) from the same starting weights, so the only difference between them is training.

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
from synthrl.llm.base import Backend
from synthrl.llm.client import LLM
from synthrl.llm.registry import parse_spec, weights_tag
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
    settings = EvalSettings(tuple(cfg.seeds), cfg.temperature, cfg.max_tokens)
    base_path = trainable_path(ctx.config.models.base)
    trained_path = str(ctx.run.stage_dir("train") / "model")
    models = {  # labels carry a weights tag: a retrained model is never answered from the cache
        "base": (base_path, f"{ctx.config.models.base}#hf{weights_tag(base_path)}"),
        "trained": (trained_path, f"trained{weights_tag(trained_path)}"),
    }
    results: dict[str, Any] = {}
    predictions = []
    for name, (path, label) in models.items():
        backend = eval_backend(ctx.config, path, label)
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


def eval_backend(config: RunConfig, path: str, label: str) -> Backend:
    """vLLM when the base model is served by vLLM (a GPU), else transformers; base and trained
    model always run on the same engine, so only the weights differ."""
    if parse_spec(config.models.base)[0] == "vllm":
        from synthrl.llm.vllm_backend import VLLMBackend

        return VLLMBackend(path, config.llm.seed, label, max_model_len=config.llm.context)
    from synthrl.llm.transformers_backend import TransformersBackend

    return TransformersBackend(path, label, config.llm.threads, config.evaluate.batch_size)


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    return {
        "evaluate": config.evaluate.model_dump(),
        "evaluation": task.evaluation.model_dump() if task.evaluation else None,
        "task": task.fingerprint(),
        "base": config.models.base,
    }


STAGE = Stage("evaluate", run, settings, inputs=("train",), summary="base vs trained on real data")
