"""`synthrl run` and `synthrl status` as library functions: load and check everything before the
first model call, run the stages, save and show the accounting."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from synthrl import report_tables
from synthrl.artifacts import RunDir, write_json
from synthrl.config import RunConfig, deep_merge, parse_overrides, resolve_config
from synthrl.errors import SynthRLError
from synthrl.llm.cache import CallCache
from synthrl.llm.registry import open_llm, parse_spec
from synthrl.llm.usage import Ledger, load_prices
from synthrl.paths import default_cache_path
from synthrl.pipeline import ModelPool, StageReport, run_pipeline, select_stages, write_run_info
from synthrl.schema import validate
from synthrl.stages import STAGES
from synthrl.task import Task, load_task


@dataclass
class RunOptions:
    task_file: Path
    out: Path | None = None
    preset: str = "paper"
    base: str | None = None
    instructor: str | None = None
    overrides: list[str] = field(default_factory=list)
    start: str | None = None
    stop: str | None = None
    force: bool = False
    cache_path: Path | None = None
    use_cache: bool = True
    saved_config: RunConfig | None = None  # resume an existing run with its own settings


def prepare_run(options: RunOptions) -> tuple[Task, RunConfig, RunDir]:
    """Validate the task file, the configuration and the model specs (no model is touched)."""
    task = load_task(options.task_file)
    overrides = parse_overrides(options.overrides)
    models = overrides.setdefault("models", {})
    if options.base:
        models["base"] = options.base
    if options.instructor:
        models["instructor"] = options.instructor
    if options.saved_config is not None:  # an existing run: its settings, then the overrides
        data = deep_merge(options.saved_config.model_dump(), overrides)
        config = validate(RunConfig, data, str(options.task_file), prefix="settings.")
    else:
        config = resolve_config(
            options.preset, task.settings, overrides, source=str(options.task_file)
        )
    for spec in (config.models.instructor, config.models.base):
        parse_spec(spec)
    select_stages(STAGES, options.start, options.stop)
    out = options.out or Path("runs") / task.name
    return task, config, RunDir(out)


def run_task(
    options: RunOptions, console: Console, show_progress: bool = True
) -> list[StageReport]:
    """Run the pipeline for `options`, print per-stage lines and the usage table."""
    task, config, run = prepare_run(options)
    write_run_info(run, options.task_file, task, config)
    cache = CallCache(options.cache_path or default_cache_path()) if options.use_cache else None
    ledger = Ledger(load_prices(config.llm.prices_file))
    pool = ModelPool(
        config, lambda spec: open_llm(spec, config.llm, cache, ledger, show_progress), cache, ledger
    )
    console.print(
        f"run [bold]{run.root}[/] task [bold]{task.name}[/] preset [bold]{config.preset}[/]"
    )

    def on_stage(report: StageReport) -> None:
        counts = ", ".join(f"{k} {v}" for k, v in report.manifest.get("counts", {}).items())
        mark = "[green]done[/]" if report.status == "ran" else "[dim]skipped (unchanged)[/]"
        console.print(f"  {report.stage:<10} {mark}  {counts}")

    try:
        reports = run_pipeline(
            STAGES,
            task,
            config,
            run,
            pool,
            ledger,
            start=options.start,
            stop=options.stop,
            force=options.force,
            on_stage=on_stage,
        )
    finally:
        pool.close()
        _save_usage(run, ledger)
        if cache is not None:
            cache.close()
        console.print(report_tables.usage_table(ledger))
    _print_evaluation(run, console)
    return reports


def _print_evaluation(run: RunDir, console: Console) -> None:
    """The base-vs-trained table, when the run has been evaluated."""
    import json

    path = run.stage_dir("evaluate") / "results.json"
    if run.manifest("evaluate") is None or not path.exists():
        return
    results = json.loads(path.read_text(encoding="utf-8"))
    if "comparison" in results:
        console.print(
            report_tables.evaluation_table(results["comparison"], results["base"]["items"])
        )


def _save_usage(run: RunDir, ledger: Ledger) -> None:
    """Append this invocation's usage to the run's usage log (usage.json, a list of rows)."""
    path = run.root / "usage.json"
    history: list[Any] = []
    if path.exists():
        import json

        try:
            history = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            history = []
    write_json(path, history + ledger.to_json())


def load_status(run_dir: Path) -> list[dict[str, Any]]:
    """One row per pipeline stage: its manifest, or None if it has not finished."""
    run = RunDir(run_dir)
    if not (run.root / "run.json").exists():
        raise SynthRLError(
            f"{run_dir} is not a run directory (no run.json); start one with `synthrl run`."
        )
    return [
        {"stage": s.name, "summary": s.summary, "manifest": run.manifest(s.name)} for s in STAGES
    ]


def load_run(run_dir: Path) -> tuple[Task, RunConfig, RunDir, Path]:
    """The task, configuration and task file of an existing run directory."""
    import json

    run = RunDir(run_dir)
    info_path = run.root / "run.json"
    if not info_path.exists():
        raise SynthRLError(
            f"{run_dir} is not a run directory (no run.json); start one with `synthrl run`."
        )
    info = json.loads(info_path.read_text(encoding="utf-8"))
    task_file = Path(info["task_file"])
    if not task_file.exists():
        task_file = run.root / "task.yaml"
    # Settings added to synthrl after the run started take the run's preset values.
    config = resolve_config(
        info.get("preset", "paper"), overrides=info["config"], source=str(info_path)
    )
    return load_task(task_file), config, run, task_file


def export_verl(run_dir: Path, out: Path | None = None, base: str | None = None) -> dict[str, Path]:
    """Write the veRL export of a run's selected samples (see synthrl.train.verl)."""
    from synthrl.train.data import rows_from_selected
    from synthrl.train.model_path import trainable_path
    from synthrl.train.verl import write_export

    task, config, run, _ = load_run(run_dir)
    selected = run.rows("select", "selected.jsonl")
    if not selected:
        raise SynthRLError(f"{run_dir}: the selection is empty; nothing to export.")
    spec = base or config.models.base
    kind, rest = parse_spec(spec)
    model_path = rest if kind in ("hf", "vllm") else trainable_path(spec)
    rows = rows_from_selected(task, selected, "grpo")
    folder = out or run.root / "export" / "verl"
    return write_export(folder, config, task.name, rows, [s["id"] for s in selected], model_path)


def run_eval(
    model: str,
    bench: str | None,
    data: str | None,
    fields: list[str],
    task_file: Path | None,
    limit: int | None,
    seeds: list[int],
    temperature: float,
    max_tokens: int,
    out: Path | None,
) -> dict[str, Any]:
    """`synthrl eval`: evaluate one model spec and optionally save the predictions."""
    from synthrl.config import LLMConfig
    from synthrl.evaluate import BUILTIN, EvalSettings, evaluate, load_benchmark, load_items
    from synthrl.evaluate.loaders import REPO

    if (bench is None) == (data is None):
        raise SynthRLError("give exactly one of --bench NAME or --data FILE")
    if task_file is None:
        if bench is None:
            raise SynthRLError("--data needs --task TASK.yaml (the prompt format and answer kind)")
        task_file = (
            REPO / "examples" / "tasks" / f"{BUILTIN[bench].task}.yaml"
            if bench in BUILTIN
            else None
        )
        if task_file is None or not task_file.exists():
            raise SynthRLError(f"no task file for {bench!r}; give --task TASK.yaml")
    task = load_task(task_file)
    if bench is not None:
        items = load_benchmark(bench, limit)
    else:
        mapping = dict(pair.split("=", 1) for pair in fields if "=" in pair)
        items = load_items(
            str(data), {"question": "question", "answer": "answer", **mapping}, limit
        )
    ledger = Ledger()
    llm = open_llm(model, LLMConfig(), CallCache(default_cache_path()), ledger)
    try:
        summary = evaluate(llm, task, items, EvalSettings(tuple(seeds), temperature, max_tokens))
    finally:
        llm.close()
    if out is not None:
        write_json(out, summary)
    return summary
