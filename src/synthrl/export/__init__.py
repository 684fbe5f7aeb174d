"""Exports of a run for other tools: the synthetic data as a Hugging Face dataset with a card
(`dataset`), the selection as veRL's parquet with a launch script (`verl`), the trained model as
GGUF for llama.cpp / Ollama (`model`, `gguf`), and the cards (`cards`). With rounds
(synthrl.rounds), each acts on the last round unless told another."""

from __future__ import annotations

from pathlib import Path

from synthrl.config import RunConfig


def default_folder(root: Path, config: RunConfig, r: int, name: str) -> Path:
    """Where an export of round r goes by default: RUN/export/NAME for the last round (round 1
    of a one-round run), RUN/export/round-R/NAME for an earlier one, so they never overwrite."""
    if r == config.rounds:
        return root / "export" / name
    return root / "export" / f"round-{r}" / name
