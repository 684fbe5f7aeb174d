"""`synthrl compare RUN...`: several runs' evaluations as one Table-3-shaped table, with paired
tests against a reference run (synthrl.evaluate.compare_runs); registered on synthrl.cli's app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthrl.cli import app, console
from synthrl.errors import SynthRLError


@app.command("compare")
def compare_cmd(
    run_dirs: Annotated[
        list[Path], typer.Argument(help="Run directories whose evaluate stage finished.")
    ],
    bench: Annotated[
        str | None,
        typer.Option(help="Refuse runs not evaluated on this built-in benchmark (e.g. gsm8k)."),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(help="The run the paired tests are against (default: the first)."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table (default), markdown or csv.")
    ] = "table",
) -> None:
    """One row per run's trained model (and per base model): method, instructor, M, strict
    and lenient accuracy (mean +- std over seeds, 95% Wilson interval), and paired tests
    against the reference run's trained model on the same items (paired-bootstrap interval of
    the difference, McNemar wins / losses / p). Runs evaluated on other items are refused."""
    from synthrl.evaluate import compare_runs as cr

    if fmt not in cr.FORMATS:
        raise SynthRLError(f"--format {fmt!r}: use one of {', '.join(cr.FORMATS)}.", exit_code=2)
    comparison = cr.compare_runs(run_dirs, bench, reference)
    if fmt == "table":
        console.print(cr.rich_table(comparison))
    else:
        text = cr.markdown(comparison) if fmt == "markdown" else cr.to_csv(comparison)
        typer.echo(text, nl=False)
