"""The SFT baseline (paper Table 3): TRL's SFTTrainer on the same selected samples with the
instructor's reference solutions (paper A.3: lr 2e-5, weight decay 0.01, batch 64, 3 epochs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthrl.config import TrainConfig
from synthrl.train.metrics import MetricsFile, quiet_progress
from synthrl.train.processes import world_size
from synthrl.train.trl_grpo import (
    load_model,
    load_tokenizer,
    lora_config,
    plain_prompts,
    quiet_renames,
    run_trainer,
    trainer_args,
)


def train_sft(
    model_path: str, rows: list[dict[str, Any]], cfg: TrainConfig, out_dir: Path
) -> dict[str, Any]:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    micro = min(cfg.sft_batch_size, 8)
    with quiet_renames():
        args = SFTConfig(
            **trainer_args(cfg, out_dir),
            learning_rate=cfg.sft_learning_rate,
            weight_decay=cfg.sft_weight_decay,
            per_device_train_batch_size=micro,
            # the batch of 64 is global: split over processes, then accumulated
            gradient_accumulation_steps=max(1, cfg.sft_batch_size // (micro * world_size())),
            num_train_epochs=cfg.sft_epochs,
            max_length=cfg.max_completion_tokens + 1024,
        )
    tokenizer = load_tokenizer(model_path)
    trainer = SFTTrainer(
        model=load_model(model_path),
        args=args,
        train_dataset=Dataset.from_list(plain_prompts(rows, tokenizer)),
        processing_class=tokenizer,
        peft_config=lora_config(cfg) if cfg.lora else None,
        callbacks=[MetricsFile(out_dir / "metrics.jsonl")],
    )
    quiet_progress(trainer, "train (SFT)")
    return run_trainer(trainer, out_dir, cfg.lora)
