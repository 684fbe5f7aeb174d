"""`synthrl export dataset RUN`: a run's synthetic data as a Hugging Face dataset folder that
`datasets.load_dataset(folder)` reads, with a dataset card (synthrl.export.cards).

The default config `selected` is the training set as TRL-ready rows: `prompt` (the chat messages
the base model is trained on), `answer`, `answer_kind`, the checker's options where the task has
them, and `id`, `origin`, `pass_rate`, `score`. Every other finished stage is a further config
(`generated`, `verified`, `probed`, `adapted`, `scored`, and `dropped_*` for the drops), its
nested fields (votes, answers) written as JSON text so each config has one schema.

With rounds (synthrl.rounds), the export is the last round's (or round `r`'s): `selected`,
`probed`, `adapted`, `scored` and `dropped_adapt` come from its folders, `generated` and
`verified` from round 1's (the pool every round starts from), and the card says so. An earlier
round's export goes to RUN/export/round-R/dataset.

    export_dataset(Path("runs/demo"))                      # -> runs/demo/export/dataset
    export_dataset(Path("runs/demo"), push_to_hub="me/gsm8k-synthetic")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthrl.errors import SynthRLError

if TYPE_CHECKING:
    from synthrl.artifacts import RunDir
    from synthrl.task import Task

# config name -> (stage, file) for the stages after `selected`
STAGE_CONFIGS = {
    "generated": ("generate", "samples.jsonl"),
    "verified": ("verify", "samples.jsonl"),
    "probed": ("probe", "samples.jsonl"),
    "adapted": ("adapt", "samples.jsonl"),
    "scored": ("score", "scores.jsonl"),
    "dropped_generate": ("generate", "dropped.jsonl"),
    "dropped_verify": ("verify", "dropped.jsonl"),
    "dropped_adapt": ("adapt", "dropped.jsonl"),
}


def selected_rows(task: Task, run: RunDir) -> list[dict[str, Any]]:
    """The selected samples of `run` (a round's view with rounds) as TRL GRPO rows with their
    provenance."""
    from synthrl.train.data import rows_from_selected

    selected = run.rows("select", "selected.jsonl")
    if not selected:
        raise SynthRLError(f"{run.root}: the selection is empty; nothing to export.")
    rows = []
    for sample, row in zip(selected, rows_from_selected(task, selected, "grpo"), strict=True):
        row = dict(row)
        row["answer_kind"] = row.pop("kind")
        rows.append(
            {
                "id": sample["id"],
                **row,
                "origin": sample.get("origin"),
                "pass_rate": sample.get("pass_rate"),
                "score": sample.get("score"),
            }
        )
    return rows


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """Nested values (lists, dicts) as JSON text, so every row of a config has one schema."""
    return {
        k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v
        for k, v in row.items()
    }


def _write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    columns = sorted({k for row in rows for k in row}, key=lambda k: (k != "id", k))
    table = pa.Table.from_pylist([{k: row.get(k) for k in columns} for row in rows])
    pq.write_table(table, path)


def export_dataset(
    run_dir: Path, out: Path | None = None, push_to_hub: str | None = None, r: int | None = None
) -> dict[str, Path]:
    """Write the dataset folder of round `r` (None: the last round; see the module docstring)
    and push it to the Hub when asked; return what was written."""
    from synthrl.artifacts import read_jsonl
    from synthrl.export import default_folder
    from synthrl.export.cards import dataset_card
    from synthrl.rounds import chosen_round, round_run
    from synthrl.rounds import folder as round_folder
    from synthrl.run import load_run

    task, config, top, _ = load_run(run_dir)
    r = chosen_round(config, r)
    run = round_run(top, r)
    if run.manifest("select") is None:
        stage = round_folder("select", r)
        raise SynthRLError(f"{run_dir}: the {stage} stage has not finished; run it first.")
    folder = out or default_folder(run.root, config, r, "dataset")
    configs = {"selected": "selected/train.parquet"}
    _write_parquet(selected_rows(task, run), folder / configs["selected"])
    for name, (stage, file) in STAGE_CONFIGS.items():
        source = run.stage_dir(stage) / file
        if run.manifest(stage) is None or not source.is_file():
            continue
        rows = [flat(row) for row in read_jsonl(source)]
        if rows:
            configs[name] = f"{name}/train.parquet"
            _write_parquet(rows, folder / configs[name])
    card = folder / "README.md"
    card.write_text(dataset_card(run, task, config, configs, r), encoding="utf-8")
    written = {name: folder / path for name, path in configs.items()} | {"card": card}
    if push_to_hub:
        push(folder, push_to_hub)
    return written


def push(folder: Path, repo_id: str) -> None:
    """Upload the dataset folder (card included) to a Hub dataset repository."""
    try:
        from huggingface_hub import HfApi

        api = HfApi()
        api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset")
    except Exception as err:  # auth, network, offline mode: all end here
        raise SynthRLError(
            f"could not push {folder} to the Hub as {repo_id!r} ({type(err).__name__}: {err}); "
            "log in with `hf auth login` (or set HF_TOKEN) and check HF_HUB_OFFLINE is unset. "
            "The folder is written and can be uploaded later."
        ) from None
