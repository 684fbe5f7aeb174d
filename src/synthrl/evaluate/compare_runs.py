"""Several runs side by side, shaped like the paper's Table 3 / Table 4 (`synthrl compare RUN...`).

One row per run's trained model, after a row per base model: the method (derived from the run's
configuration: "synthrl (default)", "no retrieval", "no adaptation", "select=easy", ...), the
instructor, the training-set size M, strict and lenient accuracy (mean +- std over the seeds,
with the Wilson interval), and paired tests against the reference run's trained model (the
first run unless `--reference`): the paired-bootstrap interval of the difference and McNemar
wins / losses / p, computed by `synthrl.evaluate.compare` on the per-item results of each run's
`evaluate/results.json`. Runs evaluated on different items (ids and gold answers, from
`evaluate/predictions.jsonl`) are refused: their accuracies are not comparable, let alone paired.

    synthrl compare runs/gsm8k runs/gsm8k-no-adapt runs/gsm8k-easy --format markdown
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from synthrl.artifacts import RunDir, read_jsonl
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.evaluate.compare import compare
from synthrl.presets import PRESETS

MODES = ("strict", "lenient")
MODELS = ("base", "trained")
FORMATS = ("table", "markdown", "csv")


@dataclass(frozen=True)
class RunResults:
    """What a finished run contributes to the table."""

    name: str
    path: Path
    method: str
    instructor: str
    base: str
    m: str
    items: list[tuple[str, str]]  # (id, gold) of each evaluation item, in order
    source: str
    evaluation: dict[str, Any]  # the evaluate settings (seeds, temperature, max tokens, engine)
    results: dict[str, Any]  # evaluate/results.json


@dataclass
class Row:
    """One line of the table: a model's accuracy and its paired test against the reference."""

    run: str
    model: str  # "trained" or "base"
    method: str
    instructor: str
    m: str
    accuracy: dict[str, dict[str, Any]]  # mode -> mean, std, ci
    paired: dict[str, dict[str, Any]] | None  # mode -> diff, diff_ci, wins, losses, p


@dataclass
class Comparison:
    rows: list[Row]
    reference: str
    items: int
    source: str
    notes: list[str] = field(default_factory=list)


def method_of(config: RunConfig, demos: int) -> str:
    """A short description of a run's method: its ablations, else "synthrl (default)"."""
    if config.train.data:
        limit = f", {config.train.data_limit} rows" if config.train.data_limit else ""
        return f"{config.train.algo.upper()} on human data ({config.train.data}{limit})"
    parts = ablations(config) + beyond(config)
    if demos:
        parts.append(f"+{demos} demo{'s' if demos > 1 else ''}")
    return ", ".join(parts) if parts else "synthrl (default)"


def ablations(config: RunConfig) -> list[str]:
    """The paper's baselines and ablations (Tables 3 and 4) that a configuration switches on."""
    parts = []
    if not config.retrieve.enabled:
        parts.append("no retrieval")
    if not config.pattern.enabled:
        parts.append("no pattern")
    if not config.adapt.enabled:
        parts.append("no adaptation")
    if config.select.strategy != "potential":
        parts.append(f"select={config.select.strategy}")
    if config.train.algo != "grpo":
        parts.append(config.train.algo.upper())
    return parts


def beyond(config: RunConfig) -> list[str]:
    """synthrl's own training switches (not the paper's), and training steps other than the
    preset's, so that runs differing only in them get different rows."""
    parts = []
    if config.rounds > 1:
        parts.append(f"{config.rounds} rounds")
    if config.train.skip_settled:
        parts.append(f"skip settled (window {config.train.settle_window})")
    preset_steps = PRESETS.get(config.preset, {}).get("train", {}).get("max_steps")
    if config.train.max_steps is not None and config.train.max_steps != preset_steps:
        parts.append(f"{config.train.max_steps} steps")
    return parts


def budget_of(config: RunConfig, run: RunDir) -> str:
    """M: the rows the run trained on (select's count), else the configured budget."""
    if config.train.data:
        return str(config.train.data_limit or "all")
    manifest = run.manifest("select")
    counts = manifest.get("counts") if isinstance(manifest, dict) else None
    if isinstance(counts, dict) and isinstance(counts.get("selected"), int):
        return str(counts["selected"])
    return "all" if config.select.strategy == "all" else str(config.select.m)


def load_results(run_dir: Path) -> RunResults:
    """A run's evaluation, configuration and item keys; refused unless evaluate finished."""
    from synthrl.run import load_run

    task, config, run, _ = load_run(run_dir)
    manifest = run.manifest("evaluate")
    if manifest is None:
        raise SynthRLError(
            f"{run_dir} has no finished evaluate stage; finish it with `synthrl resume "
            f"{run_dir}` (or leave the run out of the comparison)."
        )
    results = read_results(run.stage_dir("evaluate") / "results.json", run_dir)
    predictions = run.stage_dir("evaluate") / "predictions.jsonl"
    if not predictions.is_file():
        raise SynthRLError(
            f"{predictions} is missing, so the items {run_dir} was evaluated on are unknown; "
            f"rerun its evaluation: `synthrl resume {run_dir} --from evaluate`."
        )
    first_seed = results["trained"]["seeds"][0]
    items = [
        (str(p.get("id")), str(p.get("gold")))
        for p in read_jsonl(predictions)
        if p.get("model") == "trained" and p.get("seed") == first_seed
    ]
    if any(len(results[m][f"{k}_by_item"]) != len(items) for m in MODELS for k in MODES):
        raise SynthRLError(
            f"{run_dir}: results.json and predictions.jsonl disagree on the number of items; "
            f"rerun its evaluation: `synthrl resume {run_dir} --from evaluate`."
        )
    return RunResults(
        name=run_dir.resolve().name,
        path=run_dir.resolve(),
        method=method_of(config, len(task.demos)),
        instructor=config.models.instructor,
        base=config.models.base,
        m=budget_of(config, run),
        items=items,
        source=str(results.get("source", "?")),
        evaluation=dict(manifest.get("settings", {}).get("evaluate", {})),
        results=results,
    )


SUMMARY_KEYS = ("seeds", *(f"{m}_{k}" for m in MODES for k in ("mean", "std", "wilson", "by_item")))


def read_results(path: Path, run_dir: Path) -> dict[str, Any]:
    """A run's `evaluate/results.json`, refused when unreadable or without both models."""
    rerun = f"rerun its evaluation: `synthrl resume {run_dir} --from evaluate`"
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SynthRLError(f"{path} cannot be read ({type(err).__name__}); {rerun}.") from None
    if not isinstance(results, dict) or "trained" not in results:
        skipped = results.get("skipped") if isinstance(results, dict) else None
        raise SynthRLError(
            f"{run_dir} has no evaluation of its trained model ({skipped or 'no results'}); "
            f"give its task an `evaluation:` and {rerun}."
        )
    for model in MODELS:
        summary = results.get(model)
        missing = [k for k in SUMMARY_KEYS if not isinstance(summary, dict) or k not in summary]
        if missing:
            raise SynthRLError(f"{path}: {model} lacks {', '.join(missing)}; {rerun}.")
    return results


def check_comparable(runs: Sequence[RunResults], bench: str | None) -> list[str]:
    """Refuse runs evaluated on other items than the first (or not on `bench`); notes on
    evaluation settings that differ (comparable, but say so)."""
    if bench is not None:
        wrong = [r for r in runs if r.source != f"benchmark {bench}"]
        if wrong:
            found = "; ".join(f"{r.name}: {r.source}" for r in wrong)
            raise SynthRLError(
                f"--bench {bench}: not every run was evaluated on benchmark {bench} ({found}); "
                "leave those runs out or drop --bench."
            )
    first = runs[0]
    for other in runs[1:]:
        if other.items != first.items:
            raise SynthRLError(
                f"{other.name} and {first.name} were evaluated on different items "
                f"({_item_difference(first.items, other.items)}); paired tests need the same "
                "items: evaluate them alike (same `evaluation:` and evaluate.limit, e.g. "
                f"`synthrl resume {other.path} --from evaluate --set evaluate.limit=N`)."
            )
    notes = []
    for key in sorted({k for r in runs for k in r.evaluation}):
        values = {r.name: r.evaluation.get(key) for r in runs}
        if len({json.dumps(v, sort_keys=True) for v in values.values()}) > 1:
            shown = ", ".join(f"{name}: {value}" for name, value in values.items())
            notes.append(f"evaluate.{key} differs ({shown})")
    return notes


def _item_difference(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> str:
    if len(a) != len(b):
        return f"{len(a)} vs {len(b)} items"
    i = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
    return f"item {i + 1}: id {a[i][0]!r} gold {a[i][1]!r} vs id {b[i][0]!r} gold {b[i][1]!r}"


def compare_runs(
    run_dirs: Sequence[Path], bench: str | None = None, reference: Path | None = None
) -> Comparison:
    """The Table-3-shaped comparison of `run_dirs` (reference: the first run unless given;
    a reference not among the runs is added first)."""
    if not run_dirs:
        raise SynthRLError("give at least one run directory to compare.")
    runs = [load_results(Path(d)) for d in run_dirs]
    if len({r.name for r in runs}) < len(runs):  # same folder names: show the paths given
        runs = [replace(r, name=str(d)) for r, d in zip(runs, run_dirs, strict=True)]
    if reference is not None:
        wanted = Path(reference).resolve()
        found = [r for r in runs if r.path == wanted]
        ref = found[0] if found else load_results(Path(reference))
        if not found:
            runs.insert(0, ref)
    else:
        ref = runs[0]
    notes = check_comparable(runs, bench)
    against = ref.results["trained"]
    rows = []
    for base in dict.fromkeys(r.base for r in runs):  # one row per base model, first
        owner = next(r for r in runs if r.base == base)
        rows.append(_row(owner, "base", f"base model ({base})", against, paired=True))
    for r in runs:
        rows.append(_row(r, "trained", r.method, against, paired=r is not ref))
    return Comparison(rows, ref.name, len(ref.items), ref.source, notes)


def _row(run: RunResults, model: str, method: str, against: dict[str, Any], paired: bool) -> Row:
    summary = run.results[model]
    accuracy = {
        mode: {
            "mean": summary[f"{mode}_mean"],
            "std": summary[f"{mode}_std"],
            "ci": list(summary[f"{mode}_wilson"]),
        }
        for mode in MODES
    }
    tests = None
    if paired:
        both = compare(against, summary)  # "base" there is the reference, "trained" this model
        tests = {
            mode: {k: both[mode][k] for k in ("diff", "diff_ci", "wins", "losses", "mcnemar_p")}
            for mode in MODES
        }
    instructor = "" if model == "base" else run.instructor
    m = "" if model == "base" else run.m
    return Row(run.name, model, method, instructor, m, accuracy, tests)


# --- rendering ---------------------------------------------------------------------------------

HEADERS = ["run", "method", "instructor", "M"] + [
    name for mode in MODES for name in (mode, f"Δ {mode}", f"W / L (p) {mode}")
]


def _pct(value: float, sign: str = "") -> str:
    return f"{value * 100:{sign}.1f}"


def _cells(row: Row) -> list[str]:
    cells = [row.run, row.method, row.instructor, row.m]
    for mode in MODES:
        a = row.accuracy[mode]
        low, high = a["ci"]
        cells.append(f"{_pct(a['mean'])} ± {_pct(a['std'])} [{_pct(low)}, {_pct(high)}]")
        p = (row.paired or {}).get(mode)
        if p is None:
            cells += ["reference", ""]
        else:
            low, high = p["diff_ci"]
            cells.append(f"{_pct(p['diff'], '+')} [{_pct(low, '+')}, {_pct(high, '+')}]")
            cells.append(f"{p['wins']} / {p['losses']} (p={p['mcnemar_p']:.2g})")
    return cells


def title(c: Comparison) -> str:
    return (
        f"accuracy (%) on {c.items} items of {c.source}: mean ± std over seeds [95% Wilson "
        f"interval]; Δ: against {c.reference}'s trained model [95% paired bootstrap]; W / L: "
        "items only this model / only the reference got right (McNemar p)"
    )


def rich_table(c: Comparison) -> Any:
    from rich.table import Table

    table = Table(title=title(c), title_justify="left", caption_justify="left")
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in c.rows:
        table.add_row(*_cells(row), style="dim" if row.model == "base" else None)
    if c.notes:
        table.caption = "\n".join(f"note: {n}" for n in c.notes)
    return table


def markdown(c: Comparison) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    lines = [f"{title(c)[0].upper()}{title(c)[1:]}.", "", line(HEADERS)]
    lines += [line(["---"] * len(HEADERS))]
    lines += [line(_cells(row)) for row in c.rows]
    lines += ["", *(f"Note: {n}" for n in c.notes)] if c.notes else []
    return "\n".join(lines) + "\n"


CSV_FIELDS = ["run", "model", "method", "instructor", "m", "items"] + [
    f"{mode}_{name}"
    for mode in MODES
    for name in (
        *("mean", "std", "ci_low", "ci_high", "diff", "diff_low", "diff_high"),
        *("wins", "losses", "mcnemar_p"),
    )
]


def to_csv(c: Comparison) -> str:
    """Plain numbers (shares, not percentages, to 6 decimals); the reference's paired fields
    are empty."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in c.rows:
        record: dict[str, Any] = {
            "run": row.run,
            "model": row.model,
            "method": row.method,
            "instructor": row.instructor,
            "m": row.m,
            "items": c.items,
        }
        for mode in MODES:
            a, p = row.accuracy[mode], (row.paired or {}).get(mode)
            record |= {
                f"{mode}_mean": a["mean"],
                f"{mode}_std": a["std"],
                f"{mode}_ci_low": a["ci"][0],
                f"{mode}_ci_high": a["ci"][1],
            }
            if p is not None:
                record |= {
                    f"{mode}_diff": p["diff"],
                    f"{mode}_diff_low": p["diff_ci"][0],
                    f"{mode}_diff_high": p["diff_ci"][1],
                    f"{mode}_wins": p["wins"],
                    f"{mode}_losses": p["losses"],
                    f"{mode}_mcnemar_p": p["mcnemar_p"],
                }
        writer.writerow({k: round(v, 6) if isinstance(v, float) else v for k, v in record.items()})
    return out.getvalue()
