"""`synthrl plan` and `synthrl init`: the first commands of a newcomer, registered on the app
of synthrl.cli (the forecast of a run without running it; a starter task file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthrl.cli import PresetOpt, SetOpt, StartOpt, StopOpt, app, console
from synthrl.errors import SynthRLError
from synthrl.report import tables as report_tables


@app.command()
def plan(
    task_file: Annotated[Path, typer.Argument(help="The task definition (YAML).")],
    preset: PresetOpt = "paper",
    base: Annotated[str | None, typer.Option(help="Base model spec.")] = None,
    instructor: Annotated[str | None, typer.Option(help="Instructor model spec.")] = None,
    set_: SetOpt = None,
    start: StartOpt = None,
    stop: StopOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Run directory (finished stages skip).")
    ] = None,
) -> None:
    """The forecast of a run, without running it: requests, tokens, USD and hours per stage
    (estimates, from measured or declared speeds and the price table)."""
    from synthrl.forecast import plan_forecast
    from synthrl.run import RunOptions, prepare_run

    options = RunOptions(task_file, out, preset, base, instructor, set_ or [], start, stop)
    task, config, run = prepare_run(options)
    console.print(report_tables.forecast_table(plan_forecast(task, config, run, start, stop)))


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Task name; writes NAME.yaml.")] = "my-task",
    from_: Annotated[
        str | None, typer.Option("--from", help="Start from a shipped example, e.g. gsm8k.")
    ] = None,
    describe: Annotated[
        str | None,
        typer.Option(help="Or a one-line description the instructor expands into a task file."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="File to write (default NAME.yaml).")] = None,
    instructor: Annotated[
        str | None, typer.Option(help="Instructor model spec for --describe.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter task file to edit, then `synthrl validate` and `synthrl plan` it."""
    from synthrl import starter

    if from_ and describe:
        raise SynthRLError("give --from EXAMPLE or --describe TEXT, not both")
    if describe:
        from synthrl.run import open_instructor

        with open_instructor(instructor) as llm:
            text = starter.from_description(name, describe, llm)
    else:
        text = starter.from_example(name, from_ or "gsm8k")
    path = out or Path(f"{name}.yaml")
    task = starter.write_starter(path, text, force)
    console.print(text, markup=False, highlight=False)
    console.print(
        f"[green]wrote[/] {path} ({task.answer.kind} answers). Edit it, then: "
        f"synthrl validate {path} && synthrl plan {path} --preset cpu"
    )
