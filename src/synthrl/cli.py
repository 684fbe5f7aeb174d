"""The `synthrl` command line: thin commands over library functions.

synthrl run TASK.yaml --preset cpu --out runs/NAME   run the pipeline (resumable)
synthrl status runs/NAME                             stages, counts, tokens, cost
synthrl validate TASK.yaml ...                       check task files
synthrl config [TASK.yaml] --preset cpu              print the resolved configuration
synthrl models list | prepare                        the embedded models
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.text import Text

from synthrl import report_tables
from synthrl.errors import SynthRLError

app = typer.Typer(
    help="Adapt a language model to a task from its definition alone: synthetic data + GRPO.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
models_app = typer.Typer(help="The embedded models (installed from PyPI, no network needed).")
app.add_typer(models_app, name="models")
console = Console()
err_console = Console(stderr=True)

PresetOpt = Annotated[
    str, typer.Option("--preset", "-p", help="paper (the paper's settings) or cpu.")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a setting: section.field=value (repeatable)."),
]


@app.command()
def run(
    task_file: Annotated[Path, typer.Argument(help="The task definition (YAML).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory.")] = None,
    preset: PresetOpt = "paper",
    base: Annotated[
        str | None, typer.Option(help="Base model spec (overrides models.base).")
    ] = None,
    instructor: Annotated[str | None, typer.Option(help="Instructor model spec.")] = None,
    set_: SetOpt = None,
    start: Annotated[str | None, typer.Option("--from", help="Rerun from this stage on.")] = None,
    stop: Annotated[str | None, typer.Option("--to", help="Stop after this stage.")] = None,
    force: Annotated[bool, typer.Option(help="Rerun every selected stage.")] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the call cache.")
    ] = False,
    cache: Annotated[
        Path | None, typer.Option(help="Call cache file (default: user cache dir).")
    ] = None,
) -> None:
    """Run the pipeline on a task; finished stages with unchanged inputs are skipped."""
    from synthrl.runner import RunOptions, run_task

    options = RunOptions(
        task_file=task_file,
        out=out,
        preset=preset,
        base=base,
        instructor=instructor,
        overrides=set_ or [],
        start=start,
        stop=stop,
        force=force,
        cache_path=None if no_cache else cache,
        use_cache=not no_cache,
    )
    run_task(options, console)


@app.command()
def status(run_dir: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Show each stage of a run: done or not, counts, drop reasons, tokens, cost and time."""
    from synthrl.runner import load_status

    rows = load_status(run_dir)
    console.print(report_tables.status_table(run_dir, rows))


@app.command()
def validate(
    task_files: Annotated[list[Path], typer.Argument(help="Task files to check.")],
) -> None:
    """Check task files; exit 2 with the file, field and fix on the first invalid one."""
    from synthrl.config import resolve_config
    from synthrl.task import load_task

    for path in task_files:
        task = load_task(path)
        resolve_config("paper", task.settings, source=str(path))
        console.print(
            f"[green]ok[/] {path}: {task.name} "
            f"(answer: {task.answer.kind}, {len(task.demos)} demos)"
        )


@app.command("config")
def show_config(
    task_file: Annotated[
        Path | None, typer.Argument(help="Apply this task's settings too.")
    ] = None,
    preset: PresetOpt = "paper",
    set_: SetOpt = None,
) -> None:
    """Print the resolved run configuration as YAML."""
    from synthrl.config import parse_overrides, resolve_config
    from synthrl.task import load_task

    settings = load_task(task_file).settings if task_file else {}
    config = resolve_config(preset, settings, parse_overrides(set_ or []))
    console.print(yaml.safe_dump(config.model_dump(), sort_keys=False), end="", markup=False)


@models_app.command("list")
def models_list() -> None:
    """List the embedded models and data, their packages and whether they are prepared."""
    console.print(report_tables.models_table())


@models_app.command("prepare")
def models_prepare(
    names: Annotated[
        list[str] | None, typer.Argument(help="Models to prepare (default: all).")
    ] = None,
    hf: Annotated[
        bool, typer.Option(help="Also convert the base model to a Hugging Face folder.")
    ] = True,
) -> None:
    """Assemble and verify the embedded GGUF files (and the trainable HF copy of the base)."""
    from synthrl import models

    for name in names or list(models.MODELS):
        with console.status(f"assembling {name} ..."):
            path = models.prepare_gguf(name)
        console.print(f"[green]ok[/] {name}: {path} (sha256 verified)")
    if hf and (not names or "base" in names):
        with console.status("converting base to a Hugging Face folder (once) ..."):
            path = models.hf_path("base")
        console.print(f"[green]ok[/] base (Hugging Face, fp32): {path}")
    for name in models.DATA:
        console.print(f"[green]ok[/] {name}: {models.data_path(name)}")


def main() -> None:
    """Entry point: user errors become a clear message and an exit code, not a traceback."""
    try:
        app()
    except SynthRLError as err:
        err_console.print(Text("error: ", style="bold red") + Text(str(err)), soft_wrap=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted; finished work is saved and a rerun resumes from it.")
        sys.exit(130)


if __name__ == "__main__":
    main()
