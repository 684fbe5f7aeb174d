"""`synthrl run` and `synthrl status` as library functions: load and check everything before the
first model call, run the stages, save and show the accounting."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from synthrl.artifacts import RunDir, write_json
from synthrl.config import RunConfig, deep_merge, parse_overrides, resolve_config
from synthrl.errors import SynthRLError
from synthrl.llm.cache import CallCache
from synthrl.llm.client import LLM
from synthrl.llm.registry import open_llm, parse_spec
from synthrl.llm.usage import Budget, Ledger, load_prices
from synthrl.lock import RunLock
from synthrl.paths import default_cache_path
from synthrl.pipeline import (
    ModelPool,
    StageReport,
    inference_spec,
    select_stages,
    write_run_info,
)
from synthrl.preflight import check_plan
from synthrl.report import tables as report_tables
from synthrl.rounds import final_run, run_rounds, stages_for, stages_of
from synthrl.schema import validate
from synthrl.task import Task, load_task
from synthrl.train.processes import is_main_process

if TYPE_CHECKING:
    from synthrl.forecast import Forecast


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
    yes: bool = False  # run even when the forecast is far beyond this machine


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
    plan = select_stages(stages_of(config), options.start, options.stop)
    check_plan(task, config, [stage.name.rsplit("/", 1)[-1] for stage in plan])  # rounds too
    out = options.out or Path("runs") / task.name
    return task, config, RunDir(out)


def run_task(
    options: RunOptions, console: Console, show_progress: bool = True
) -> list[StageReport]:
    """Run the pipeline for `options`, print per-stage lines and the usage table. The run
    directory is locked for the run's lifetime (a second run on it refuses)."""
    task, config, run = prepare_run(options)
    check_forecast(options, task, config, run, console)
    with RunLock(run.root):
        return _run_locked(options, console, show_progress, task, config, run)


def _run_locked(
    options: RunOptions,
    console: Console,
    show_progress: bool,
    task: Task,
    config: RunConfig,
    run: RunDir,
) -> list[StageReport]:
    write_run_info(run, options.task_file, task, config)
    cache = CallCache(options.cache_path or default_cache_path()) if options.use_cache else None
    ledger = Ledger(load_prices(config.llm.prices_file))
    budget = run_budget(run, config)
    pool = ModelPool(
        config,
        lambda spec: open_llm(spec, config.llm, cache, ledger, show_progress, budget),
        cache,
        ledger,
    )
    console.print(
        f"run [bold]{run.root}[/] task [bold]{task.name}[/] preset [bold]{config.preset}[/]"
    )

    def on_stage(report: StageReport) -> None:
        counts = ", ".join(f"{k} {v}" for k, v in report.manifest.get("counts", {}).items())
        mark = "[green]done[/]" if report.status == "ran" else "[dim]skipped (unchanged)[/]"
        console.print(f"  {report.stage:<10} {mark}  {counts}")

    try:
        reports = run_rounds(
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
    except BaseException:
        _wind_down(run, pool, ledger, cache, console, failing=True)
        raise
    _wind_down(run, pool, ledger, cache, console)
    write_cards(final_run(run, config))
    _print_evaluation(run, console)
    return reports


def check_forecast(
    options: RunOptions, task: Task, config: RunConfig, run: RunDir, console: Console
) -> None:
    """Show the forecast of the stages still to run; stop (before any model call) when it is
    far beyond this machine, unless `options.yes`."""
    from synthrl.forecast import STOP_HOURS, plan_forecast

    fc = plan_forecast(task, config, run, options.start, options.stop, options.force)
    if not fc.rows or not is_main_process():
        return
    console.print(report_tables.forecast_table(fc))
    budget = config.llm.budget_usd
    if budget is not None and fc.usd > budget:
        console.print(
            f"[yellow]note:[/] the forecast ({fc.usd_text}, at most) is above llm.budget_usd "
            f"(${budget:.4f}): the run stops before the call that would cross it; raise the "
            "budget and resume to go on."
        )
    if fc.too_long and not options.yes:
        raise SynthRLError(
            f"nothing was run: the forecast is {fc.hours:,.0f} hours on this machine (estimates; "
            f"more than {STOP_HOURS:.0f}), preset {config.preset!r} with {config.models.base} "
            f"as the base. On a CPU, use `--preset cpu` (minutes: the whole pipeline at small "
            "scale), point models.base_endpoint / --base at a GPU server, or pass `--yes` to "
            "run it anyway."
        )


def run_budget(run: RunDir, config: RunConfig) -> Budget | None:
    """`llm.budget_usd` with what earlier commands on this run spent (its usage log)."""
    if config.llm.budget_usd is None:
        return None
    spent = sum(float(row.get("cost_usd") or 0) for row in _usage_history(run))
    return Budget(config.llm.budget_usd, spent)


def write_cards(run: RunDir) -> None:
    """The trained model's card (train/model/README.md, the last round's with rounds), once
    train has finished."""
    if is_main_process() and run.manifest("train") is not None:
        from synthrl.export.cards import write_model_card

        write_model_card(run)


def _print_evaluation(run: RunDir, console: Console) -> None:
    """The base-vs-trained table, when the run has been evaluated."""
    import json

    path = run.stage_dir("evaluate") / "results.json"
    if run.manifest("evaluate") is None or not path.exists():
        return
    results = json.loads(path.read_text(encoding="utf-8"))
    if "comparison" in results:
        from synthrl.report.sections import verdict

        console.print(
            report_tables.evaluation_table(results["comparison"], results["base"]["items"])
        )
        console.print(f"[bold]verdict:[/] {verdict(results['comparison'])[0]}")


def _wind_down(
    run: RunDir,
    pool: ModelPool,
    ledger: Ledger,
    cache: CallCache | None,
    console: Console,
    failing: bool = False,
) -> None:
    """Close the models and the cache, save and show the usage. While the run is `failing`, a
    usage log that cannot be written (on a full disk, as a rule) is only reported: the error
    that stopped the run, naming the file it could not write, is the one shown."""
    try:
        pool.close()
        _save_usage(run, ledger)
    except SynthRLError as err:
        if not failing:
            raise
        console.print(f"[yellow]usage log not saved:[/] {err}")
    finally:
        if cache is not None:
            cache.close()
        console.print(report_tables.usage_table(ledger))


def _save_usage(run: RunDir, ledger: Ledger) -> None:
    """Append this invocation's usage to the run's usage log (usage.json, a list of rows);
    rank 0 only under a multi-process launch."""
    if not is_main_process():
        return
    write_json(run.root / "usage.json", _usage_history(run) + ledger.to_json())


def _usage_history(run: RunDir) -> list[Any]:
    """The rows of the run's usage log (usage.json), [] when there is none."""
    import json

    path = run.root / "usage.json"
    if not path.exists():
        return []
    try:
        history = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return []
    return history if isinstance(history, list) else []


def load_status(run_dir: Path) -> list[dict[str, Any]]:
    """One row per pipeline stage: its manifest, or None if it has not finished."""
    run = RunDir(run_dir)
    if not (run.root / "run.json").exists():
        raise SynthRLError(
            f"{run_dir} is not a run directory (no run.json); start one with `synthrl run`."
        )
    return [
        {"stage": s.name, "summary": s.summary, "manifest": run.manifest(s.name)}
        for s in stages_for(_saved_settings(run))
    ]


def _saved_settings(run: RunDir) -> dict[str, Any]:
    """run.json's configuration as saved ({} when it cannot be read)."""
    import json

    try:
        info = json.loads((run.root / "run.json").read_text(encoding="utf-8"))
        return dict(info["config"])
    except (OSError, ValueError, LookupError, TypeError):
        return {}


def load_run(run_dir: Path) -> tuple[Task, RunConfig, RunDir, Path]:
    """The task, configuration and task file of an existing run directory."""
    import json

    run = RunDir(run_dir)
    info_path = run.root / "run.json"
    if not info_path.exists():
        raise SynthRLError(
            f"{run_dir} is not a run directory (no run.json); start one with `synthrl run`."
        )
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        task_file, saved = Path(info["task_file"]), dict(info["config"])
        preset = str(info.get("preset", "paper"))
    except (OSError, ValueError, LookupError, TypeError) as err:  # cut off, or not synthrl's
        raise SynthRLError(
            f"{info_path} cannot be read ({type(err).__name__}: {err}); `synthrl run TASK.yaml "
            f"--out {run_dir}` writes it again (finished stages are kept)."
        ) from None
    if not task_file.exists():
        task_file = run.root / "task.yaml"
    # Settings added to synthrl after the run started take the run's preset values.
    config = resolve_config(preset, overrides=saved, source=str(info_path))
    return load_task(task_file), config, run, task_file


def run_eval(
    model: str,
    bench: str | None,
    data: str | None,
    fields: list[str],
    task_file: Path | None,
    preset: str,
    overrides: dict[str, Any],
    out: Path | None,
) -> dict[str, Any]:
    """`synthrl eval`: evaluate one model spec and optionally save the predictions. The
    evaluation settings are the preset's, with `overrides` (None values ignored) on top."""
    from synthrl.evaluate import BUILTIN, evaluate, load_benchmark, load_items
    from synthrl.shipped import example_tasks

    limit = overrides.get("limit")  # never the preset's: what the user asked for, or all
    given = {k: v for k, v in overrides.items() if v is not None and k != "limit"}
    config = resolve_config(preset, overrides={"evaluate": given}, source="synthrl eval")
    settings = config.evaluate

    if (bench is None) == (data is None):
        raise SynthRLError("give exactly one of --bench NAME or --data FILE")
    if task_file is None:
        if bench is None:
            raise SynthRLError("--data needs --task TASK.yaml (the prompt format and answer kind)")
        task_file = example_tasks().get(BUILTIN[bench].task) if bench in BUILTIN else None
        if task_file is None:
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
    llm = open_llm(model, config.llm, CallCache(default_cache_path()), ledger)
    try:
        summary = evaluate(llm, task, items, settings)
    finally:
        llm.close()
    if out is not None:
        write_json(out, summary)
    return summary


def run_audit(
    task_file: Path,
    bench: str | None,
    split: str,
    data: str | None,
    fields: list[str],
    limit: int,
    preset: str,
    overrides: list[str],
    with_base: bool,
    console: Console | None = None,
) -> dict[str, Any]:
    """`synthrl audit`: the instructor's label accuracy on items with known answers; the
    forecast of its model calls printed on `console` first."""
    from synthrl.audit import audit_labels
    from synthrl.endpoint import endpoint_problems
    from synthrl.evaluate import load_items
    from synthrl.evaluate.loaders import split_benchmark

    task = load_task(task_file)
    config = resolve_config(preset, task.settings, parse_overrides(overrides), str(task_file))
    if (bench is None) == (data is None):
        raise SynthRLError("give exactly one of --bench NAME or --data FILE")
    if bench is not None:
        items = split_benchmark(bench, split, limit)
    else:
        mapping = dict(pair.split("=", 1) for pair in fields if "=" in pair)
        items = load_items(
            str(data), {"question": "question", "answer": "answer", **mapping}, limit
        )
    if with_base and (problems := endpoint_problems(config)):
        raise SynthRLError(problems[0])
    if console is not None:
        console.print(report_tables.forecast_table(_audit_forecast(task, config, items, with_base)))
    cache = CallCache(default_cache_path())
    ledger = Ledger(load_prices(config.llm.prices_file))
    instructor = open_llm(config.models.instructor, config.llm, cache, ledger)
    try:
        base_spec = inference_spec(config, "base")  # models.base_endpoint when set, as probe
        base = open_llm(base_spec, config.llm, cache, ledger) if with_base else None
        try:
            audit = audit_labels(instructor, task, items, config, base)
        finally:
            if base is not None:
                base.close()
    finally:
        instructor.close()
        cache.close()
    return {
        **audit.summary(),
        "task": task.name,
        "source": f"{bench} ({split})" if bench else data,
        "preset": config.preset,
        "instructor": config.models.instructor,
        "verify": config.verify.model_dump(),
    }


def _audit_forecast(
    task: Task, config: RunConfig, items: Sequence[Any], with_base: bool
) -> Forecast:
    """The audit's forecast; above an hour, with what the `cpu` preset's votes would take."""
    from synthrl.forecast import audit_forecast

    fc = audit_forecast(task, config, len(items), with_base)
    if fc.hours > 1 and config.preset != "cpu":
        cpu = resolve_config("cpu", task.settings, source="cpu preset")
        cpu = cpu.model_copy(update={"models": config.models, "llm": config.llm})
        hours = audit_forecast(task, cpu, len(items), with_base).hours
        fc.notes.append(
            f"`--preset cpu` votes k = {cpu.verify.k} at most {cpu.verify.max_tokens} tokens "
            f"each: ~{hours:.1f} h here. The votes are cached: an audit stopped and run again "
            "pays only for what it had not drawn."
        )
    return fc


@contextmanager
def open_instructor(spec: str | None = None) -> Iterator[LLM]:
    """The instructor model (`spec`, default the paper preset's) behind the call cache, for
    commands outside a run (`synthrl init --describe`)."""
    config = resolve_config("paper", source="synthrl init")
    cache = CallCache(default_cache_path())
    llm = open_llm(spec or config.models.instructor, config.llm, cache)
    try:
        yield llm
    finally:
        llm.close()
        cache.close()
