"""`synthrl export verl RUN` (and `synthrl train RUN --engine verl`): a run's selected samples
as veRL's parquet, a reward file calling synthrl's checker and a GRPO or PPO launch script
(synthrl.train.verl). With rounds, the last round's selection (or `r`'s), trained from that
round's base: the previous round's model, as the round's own `train` stage would.

    export_verl(Path("runs/demo"))              # -> runs/demo/export/verl/{train.parquet, ...}
    export_verl(Path("runs/demo"), algo="ppo")  # -> runs/demo/export/verl-ppo/
"""

from __future__ import annotations

from pathlib import Path

from synthrl.errors import SynthRLError


def export_verl(
    run_dir: Path,
    out: Path | None = None,
    base: str | None = None,
    algo: str = "grpo",
    r: int | None = None,
) -> dict[str, Path]:
    """Write the veRL export of round `r`'s selected samples (None: the last round's) for
    `algo` (grpo or ppo) into `out`, by default RUN/export/verl (grpo) or RUN/export/verl-ppo
    (an earlier round's under RUN/export/round-R/), so the two never share a checkpoint
    folder. The model is `base`, else the round's base; the training settings are the
    round's (`rounds` splits the steps)."""
    from synthrl.export import default_folder
    from synthrl.llm.registry import parse_spec
    from synthrl.rounds import chosen_round, round_config, round_run
    from synthrl.run import load_run
    from synthrl.train.data import rows_from_selected
    from synthrl.train.model_path import trainable_path
    from synthrl.train.verl import check_algo, write_export

    check_algo(algo)
    task, config, run, _ = load_run(run_dir)
    r = chosen_round(config, r)
    selected = round_run(run, r).rows("select", "selected.jsonl")
    if not selected:
        raise SynthRLError(f"{run_dir}: the selection of round {r} is empty; nothing to export.")
    settings = round_config(config, run.root, r)  # its base and its share of the steps
    spec = base or settings.models.base
    kind, rest = parse_spec(spec)
    model_path = rest if kind in ("hf", "vllm") else trainable_path(spec)
    rows = rows_from_selected(task, selected, "grpo")  # prompt + gold answer: PPO's rows too
    name = "verl" if algo == "grpo" else f"verl-{algo}"
    folder = out or default_folder(run.root, config, r, name)
    ids = [s["id"] for s in selected]
    return write_export(folder, settings, task.name, rows, ids, model_path, algo)
