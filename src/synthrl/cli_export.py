"""`synthrl export verl`, `synthrl export dataset` and `synthrl export gguf`: thin commands over
synthrl.export, registered on the `export` group of synthrl.cli. With rounds, each exports the
last round (or `--round N`) and says which."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synthrl.cli import RoundOpt, announce_round, console, export_app


@export_app.command("verl")
def export_verl_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory whose select stage finished.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Folder (default RUN/export/verl, or RUN/export/verl-ppo for ppo)."),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(help="Model to train (default: the run's base; with rounds, the round's)."),
    ] = None,
    algo: Annotated[
        str, typer.Option(help="grpo (paper) or ppo (GAE with a critic from the same model).")
    ] = "grpo",
    round_: RoundOpt = None,
) -> None:
    """Write veRL's parquet, a reward file calling synthrl's checker, and a GRPO or PPO launch
    script."""
    from synthrl.export.verl import export_verl
    from synthrl.train.verl import check_algo

    check_algo(algo)  # before the run is read
    r = announce_round(run_dir, round_, "export verl")
    for name, path in export_verl(run_dir, out, base, algo, r).items():
        console.print(f"[green]wrote[/] {name}: {path}")


@export_app.command("dataset")
def export_dataset_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory whose select stage finished.")],
    out: Annotated[Path | None, typer.Option(help="Folder (default RUN/export/dataset).")] = None,
    push_to_hub: Annotated[
        str | None, typer.Option(help="Also upload it to this Hub dataset repo (OWNER/NAME).")
    ] = None,
    round_: RoundOpt = None,
) -> None:
    """The synthetic data as a Hugging Face dataset (TRL-ready `selected` config, the other
    stages as further configs) with a dataset card; `datasets.load_dataset(FOLDER)` reads it."""
    from synthrl.export.dataset import export_dataset

    r = announce_round(run_dir, round_, "export dataset")
    written = export_dataset(run_dir, out, push_to_hub, r)
    for name, path in written.items():
        console.print(f"[green]wrote[/] {name}: {path}")
    if push_to_hub:
        console.print(f"[green]pushed[/] https://huggingface.co/datasets/{push_to_hub}")


@export_app.command("gguf")
def export_gguf_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory whose train stage finished.")],
    out: Annotated[
        Path | None, typer.Option(help="File (default RUN/export/gguf/TASK-DTYPE.gguf).")
    ] = None,
    dtype: Annotated[str, typer.Option(help="q8_0 (default), q5_0, q4_0, f16 or f32.")] = "q8_0",
    round_: RoundOpt = None,
) -> None:
    """The trained model as one GGUF file for llama.cpp / Ollama, in its base's GGUF template."""
    from synthrl.export.model import export_gguf

    r = announce_round(run_dir, round_, "export gguf")
    path = export_gguf(run_dir, out, dtype, r)
    console.print(f"[green]wrote[/] {path} ({path.stat().st_size / 1e6:,.0f} MB)")
