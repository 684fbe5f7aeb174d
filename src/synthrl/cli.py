"""The `synthrl` command line: thin commands over library functions.

synthrl init NAME --from gsm8k                       write a starter task file
synthrl plan TASK.yaml --preset paper                the forecast: requests, tokens, USD, hours
synthrl run TASK.yaml --preset cpu --out runs/NAME   run the pipeline (resumable)
synthrl status runs/NAME                             stages, counts, tokens, cost
synthrl validate TASK.yaml ...                       check task files
synthrl config [TASK.yaml] --preset cpu              print the resolved configuration
synthrl models list | prepare                        the embedded models
synthrl resume runs/NAME [--from S] [--to S]         continue a run with its own settings
synthrl train runs/NAME [--algo sft] [--data FILE]   train (or a baseline) on a finished selection
synthrl export verl runs/NAME                        veRL parquet, reward file, launch script
synthrl export dataset runs/NAME                     a Hugging Face dataset with a card
synthrl export gguf runs/NAME                        the trained model as GGUF (llama.cpp)
synthrl eval MODEL --bench gsm8k --limit N           evaluate any model spec
synthrl judge --kind number --gold 18 < text         the answer checker on one completion
synthrl audit TASK.yaml --bench gsm8k --limit 100    how right the instructor's labels are
synthrl report runs/NAME                             one self-contained HTML report
synthrl compare RUN RUN ... [--format markdown]      runs side by side (Table 3/4)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from rich.console import Console
from rich.text import Text

from synthrl import __version__
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.presets import PRESETS
from synthrl.report import tables as report_tables
from synthrl.stage_names import STAGE_NAMES

if TYPE_CHECKING:
    from synthrl.run import RunOptions

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
    str,
    typer.Option(
        "--preset",
        "-p",
        help=f"One of {', '.join(PRESETS)}: paper is the paper's settings, the others are "
        "scaled down for 2 CPU cores (`synthrl config --preset NAME` shows them).",
    ),
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="Override a setting: section.field=value (repeatable)."),
]
_STAGES = ", ".join(STAGE_NAMES)
_ROUND = "; with rounds also round-R/probe ... round-R/train"
StartOpt = Annotated[
    str | None,
    typer.Option("--from", help=f"Rerun from this stage on (one of: {_STAGES}){_ROUND}."),
]
StopOpt = Annotated[
    str | None, typer.Option("--to", help=f"Stop after this stage (one of: {_STAGES}){_ROUND}.")
]
YesOpt = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Run even when the forecast is far beyond this machine (`synthrl plan`).",
    ),
]
RoundOpt = Annotated[
    int | None,
    typer.Option(
        "--round", min=1, help="With `rounds: R`: act on round N's folders (default: the last)."
    ),
]


def _version(value: bool) -> None:
    if value:
        console.print(f"synthrl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Adapt a language model to a task from its definition alone: synthetic data + GRPO."""


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
    start: StartOpt = None,
    stop: StopOpt = None,
    force: Annotated[bool, typer.Option(help="Rerun every selected stage.")] = False,
    rounds: Annotated[
        int | None,
        typer.Option(
            "--rounds",
            min=1,
            help=f"Sets `rounds`: {RunConfig.model_fields['rounds'].description}",
        ),
    ] = None,
    yes: YesOpt = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the call cache.")
    ] = False,
    cache: Annotated[
        Path | None, typer.Option(help="Call cache file (default: user cache dir).")
    ] = None,
) -> None:
    """Run the pipeline on a task; finished stages with unchanged inputs are skipped. Shows the
    forecast first and stops when it is far beyond this machine (e.g. the paper preset on a
    CPU): use --preset cpu there, or --yes."""
    from synthrl.run import RunOptions, run_task

    options = RunOptions(
        task_file=task_file,
        out=out,
        preset=preset,
        base=base,
        instructor=instructor,
        overrides=[*(set_ or []), *([f"rounds={rounds}"] if rounds is not None else [])],
        start=start,
        stop=stop,
        force=force,
        cache_path=None if no_cache else cache,
        use_cache=not no_cache,
        yes=yes,
    )
    run_task(options, console)


@app.command()
def judge(
    kind: Annotated[str, typer.Option(help="number, math, choice, yes_no, label or text.")],
    gold: Annotated[str, typer.Option(help="The correct answer.")],
    opt: Annotated[
        list[str] | None,
        typer.Option("--opt", help="Checker option KEY=VALUE, e.g. letters=ABC (repeatable)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show what was extracted.")
    ] = False,
) -> None:
    """Judge a completion read from stdin against GOLD: exit 0 if correct, 1 if not."""
    from synthrl.answers import AnswerOptionError, explain, parse_cli_options
    from synthrl.answers import judge as judge_answer

    completion = sys.stdin.read()
    try:
        opts = parse_cli_options(kind, opt or [])
        correct = judge_answer(completion, gold, kind, **opts)  # type: ignore[arg-type]
        if verbose:
            console.print(explain(completion, gold, kind, **opts))  # type: ignore[arg-type]
    except AnswerOptionError as err:
        raise SynthRLError(str(err), exit_code=2) from None
    console.print("correct" if correct else "wrong")
    raise typer.Exit(0 if correct else 1)


@app.command()
def audit(
    task_file: Annotated[Path, typer.Argument(help="The task definition (YAML).")],
    bench: Annotated[
        str | None, typer.Option(help="Built-in benchmark with known answers, e.g. gsm8k.")
    ] = None,
    split: Annotated[str, typer.Option(help="Its split: train (default) or test.")] = "train",
    data: Annotated[
        str | None, typer.Option(help="Or your own labelled JSONL/Parquet file.")
    ] = None,
    field: Annotated[
        list[str] | None, typer.Option(help="Field mapping for --data: question=q, answer=a, ...")
    ] = None,
    limit: Annotated[int, typer.Option(help="First N items.")] = 100,
    preset: PresetOpt = "paper",
    set_: SetOpt = None,
    base: Annotated[
        bool, typer.Option(help="Also measure the base model's greedy pass rate on them.")
    ] = True,
    out: Annotated[Path | None, typer.Option(help="Write the full audit (JSON).")] = None,
) -> None:
    """How often the instructor's verified labels are right: vote on items with known answers
    exactly as `verify` does, and compare. Prints kept share, kept-label accuracy, accuracy by
    agreement and the accuracy / kept frontier over k and the agreement threshold."""
    from synthrl.run import run_audit

    summary = run_audit(
        task_file, bench, split, data, field or [], limit, preset, set_ or [], base, console
    )
    console.print(report_tables.audit_table(summary))
    if out is not None:
        from synthrl.artifacts import write_json

        write_json(out, summary)
        console.print(f"audit: {out}")


@app.command("eval")
def eval_cmd(
    model: Annotated[
        str, typer.Argument(help="Model spec, e.g. embedded:base, hf:runs/x/train/model.")
    ],
    bench: Annotated[
        str | None, typer.Option(help="Built-in: gsm8k, math500, logiqa, medqa.")
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="Your own JSONL/Parquet file or hf:NAME[:CONFIG][@SPLIT].")
    ] = None,
    field: Annotated[
        list[str] | None, typer.Option(help="Field mapping for --data: question=q, answer=a, ...")
    ] = None,
    task: Annotated[
        Path | None, typer.Option(help="Task file for the prompt and answer kind.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="First N items only.")] = None,
    preset: Annotated[
        str, typer.Option("--preset", "-p", help="Take the evaluation defaults of this preset.")
    ] = "paper",
    seeds: Annotated[
        str | None, typer.Option(help="Comma-separated seeds (sampled mode; preset's default).")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="0 = greedy; > 0 = sampled, per seed (preset's default).")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Max completion tokens (preset's default).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write results + per-item predictions (JSON).")
    ] = None,
) -> None:
    """Zero-shot accuracy of MODEL on a benchmark (strict and lenient), mean +- std over seeds.
    Seeds, temperature and max tokens default to the preset's `evaluate` settings
    (`synthrl config --preset NAME`)."""
    from synthrl.run import run_eval

    overrides = {"limit": limit, "temperature": temperature, "max_tokens": max_tokens}
    if seeds is not None:
        try:
            overrides["seeds"] = [int(x) for x in seeds.split(",") if x.strip()]
        except ValueError:
            raise typer.BadParameter(
                f"{seeds!r}: give comma-separated integers, e.g. --seeds 0,1,2",
                param_hint="--seeds",
            ) from None
    summary = run_eval(model, bench, data, field or [], task, preset, overrides, out)
    for mode in ("strict", "lenient"):
        low, high = summary[f"{mode}_wilson"]
        console.print(
            f"{mode:>8}: {summary[f'{mode}_mean']:.1%} +- {summary[f'{mode}_std']:.1%} "
            f"(95% CI {low:.1%}-{high:.1%}, {summary['items']} items, seeds {summary['seeds']})"
        )


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    out: Annotated[
        Path | None, typer.Option(help="HTML file (default RUN/report/report.html).")
    ] = None,
) -> None:
    """Write one self-contained HTML report of a run: difficulty, lengths, similarity, training
    curves, evaluation, stage counts and cost, and a browsable sample of the synthetic data."""
    from synthrl.report import build_report

    path = build_report(run_dir, out)
    console.print(f"report: {path.resolve()}")


@app.command()
def status(run_dir: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Show each stage of a run: done or not, counts, drop reasons, tokens, cost and time."""
    from synthrl.run import load_status

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


export_app = typer.Typer(help="Export a run's data for other engines.")
app.add_typer(export_app, name="export")


@app.command()
def train(
    run_dir: Annotated[Path, typer.Argument(help="A run directory whose select stage finished.")],
    engine: Annotated[str, typer.Option(help="trl (this machine) or verl (Ray cluster).")] = "trl",
    algo: Annotated[
        str | None, typer.Option(help="grpo, sft (baseline; trl only) or ppo (verl only).")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            help="Train on a human-labelled JSONL / Parquet file or hf:NAME[:CONFIG][@SPLIT] "
            "instead (the RL (Same) / (Whole) baselines; the split defaults to train)."
        ),
    ] = None,
    set_: SetOpt = None,
    yes: YesOpt = False,
    round_: RoundOpt = None,
) -> None:
    """Train the run's base model on its selected samples (resumes from the last checkpoint).
    With rounds, up to the last round's `train` (its selection, from its base; the earlier
    rounds first where they have not run), or round N's with --round N."""
    from synthrl.export.verl import export_verl
    from synthrl.rounds import folder
    from synthrl.train.verl import check_algo, launch

    if engine == "verl":
        if algo == "sft" or data:
            raise SynthRLError(
                "--engine verl trains GRPO or PPO on the run's selected samples; the SFT and "
                "human-data baselines run with --engine trl (or export your data to veRL's "
                "parquet yourself)."
            )
        check_algo(algo or "grpo")  # before the run is read
        r = announce_round(run_dir, round_, "train")
        files = export_verl(run_dir, algo=algo or "grpo", r=r)
        raise typer.Exit(launch(files["script"]))
    if engine != "trl":
        raise SynthRLError(f"unknown engine {engine!r}: use trl or verl.")
    if algo == "ppo":
        raise SynthRLError(
            "PPO trains with --engine verl: TRL dropped its PPO trainer (grpo and sft train here)."
        )
    r = announce_round(run_dir, round_, "train")
    extra = list(set_ or [])
    if algo:
        extra.append(f"train.algo={algo}")
    if data:
        source = data if data.startswith("hf:") else str(Path(data).resolve())
        extra.append(f"train.data={source}")
    from synthrl.run import run_task

    run_task(resume_options(run_dir, extra, None, folder("train", r), False, yes), console)


def announce_round(run_dir: Path, r: int | None, command: str) -> int:
    """Round `r` of the run (None: its last), checked; said on the console when it has rounds."""
    from synthrl.rounds import chosen_round, round_label
    from synthrl.run import load_run

    _, config, _, _ = load_run(run_dir)
    r = chosen_round(config, r)
    if config.rounds > 1:
        console.print(f"{command}: {round_label(config, r)}")
    return r


@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    set_: SetOpt = None,
    start: StartOpt = None,
    stop: StopOpt = None,
    force: Annotated[bool, typer.Option(help="Rerun every selected stage.")] = False,
    yes: YesOpt = False,
) -> None:
    """Continue a run with the settings it was started with (plus any --set overrides)."""
    from synthrl.run import run_task

    run_task(resume_options(run_dir, set_ or [], start, stop, force, yes), console)


def resume_options(
    run_dir: Path,
    overrides: list[str],
    start: str | None,
    stop: str | None,
    force: bool,
    yes: bool = False,
) -> RunOptions:
    """Options that continue `run_dir` with its saved configuration."""
    from synthrl.run import RunOptions, load_run

    _, config, _, task_file = load_run(run_dir)
    return RunOptions(
        task_file=task_file,
        out=run_dir,
        preset=config.preset,
        overrides=overrides,
        start=start,
        stop=stop,
        force=force,
        saved_config=config,
        yes=yes,
    )


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


from synthrl import cli_cache, cli_compare, cli_export, cli_setup  # noqa: E402, F401  (registered)


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


if __name__ == "__main__":  # python -m synthrl.cli: the imported module holds every command
    from synthrl.cli import main as registered_main

    registered_main()
