"""`synthrl export gguf RUN`: the run's trained model (`train/model/`) as one GGUF file for
llama.cpp / Ollama users, written into the template of the base's own GGUF
(synthrl.export.gguf); its greedy answers match the Hugging Face model's up to the precision
chosen (tests/e2e/test_export_run.py).

    export_gguf(Path("runs/demo"))            # -> runs/demo/export/gguf/gsm8k-q8_0.gguf
"""

from __future__ import annotations

from pathlib import Path

from synthrl.errors import SynthRLError


def export_gguf(
    run_dir: Path, out: Path | None = None, dtype: str = "q8_0", r: int | None = None
) -> Path:
    """Write the trained model of `run_dir` as GGUF (`dtype`: q8_0, q5_0, q4_0, f16, f32); with
    rounds, round `r`'s model (None: the last round's; an earlier one's goes to
    RUN/export/round-R/gguf/)."""
    from synthrl.evaluate.engines import gguf_template
    from synthrl.export import default_folder
    from synthrl.export.cards import write_model_card
    from synthrl.export.gguf import write_gguf
    from synthrl.llm.registry import parse_spec
    from synthrl.rounds import chosen_round, folder, round_run
    from synthrl.run import load_run

    task, config, run, _ = load_run(run_dir)
    r = chosen_round(config, r)
    run = round_run(run, r)  # with rounds, the last round's model unless told
    model = run.stage_dir("train") / "model"
    if run.manifest("train") is None or not model.is_dir():
        stage = folder("train", r)
        raise SynthRLError(f"{run_dir}: the {stage} stage has not finished; run it first.")
    kind, rest = parse_spec(config.models.base)
    if kind == "embedded":
        from synthrl.models import prepare_gguf

        template: Path | None = prepare_gguf(rest)
    else:
        template = gguf_template(config.models.base)
    if template is None or not template.is_file():
        raise SynthRLError(
            f"the base {config.models.base} does not come from a GGUF file, which synthrl uses "
            "as the template; convert train/model with llama.cpp's convert_hf_to_gguf.py."
        )
    write_model_card(run)
    target = out or default_folder(run.root, config, r, "gguf") / f"{task.name}-{dtype}.gguf"
    return write_gguf(model, template, target, dtype)
