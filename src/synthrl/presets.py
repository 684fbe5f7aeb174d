"""The presets `--preset NAME` starts from (`synthrl config --preset NAME` prints them
resolved): `paper` is the field defaults of `synthrl.config` (the paper's settings), `cpu`
and `cpu-long` are scaled down for 2 CPU cores and the embedded models. A run's settings are
the preset, then the task file's `settings:`, then `--set` overrides, merged by `deep_merge`.
"""

from __future__ import annotations

from typing import Any


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `extra` merged in, recursing into nested dicts."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


PRESETS: dict[str, dict[str, Any]] = {
    # The paper's settings (section 5.1, appendix A.3) are the field defaults above.
    "paper": {},
    # Scaled down for 2 CPU cores and the embedded models (`make demo`: docs/benchmarks.md).
    "cpu": {
        "llm": {"context": 2048},
        "keywords": {"count": 8, "max_tokens": 256},
        "retrieve": {"per_keyword": 3},
        "generate": {"n": 12, "max_tokens": 320},
        # votes drawn until the label is settled; a vote's Python arithmetic is run (the
        # embedded instructor writes code with made-up printed values: docs/scoring.md)
        # choice tasks: options rotated per vote, so no position is elected by bias
        "verify": {
            "k": 3,
            "max_tokens": 320,
            "adaptive": True,
            "check_arithmetic": True,
            "permute_options": True,
            # label, yes_no, choice: no label above half the kept samples (issue 21, balance.py)
            "max_label_share": 0.5,
        },
        "probe": {"max_tokens": 320},
        "adapt": {"max_tokens": 320},
        # L = 6: rounds of 4 then 2 (the field defaults, 8 and 0.1, are chosen for L = 64)
        "score": {
            "samples": 6,
            "max_tokens": 192,
            "adaptive": True,
            "round_size": 4,
            "delta": 0.05,
        },
        "select": {"m": 8},
        "train": {
            # the 0.5B base never writes GSM8K's `####` (0 of 32): a short SFT on its own
            # solved probe answers, the label restated in the format (train/warmup.py), first
            "warmup_epochs": 2,
            "warmup_learning_rate": 3e-4,
            "format_reward": 0.1,
            "lenient_credit": 0.5,
            "learning_rate": 1e-4,
            "num_generations": 6,
            "prompts_per_step": 1,
            "max_completion_tokens": 160,
            "max_steps": 4,
            "temperature": 0.8,
            "stop_tokens": ["<|im_end|>", "<|endoftext|>"],
            "lora": True,
            "save_steps": 2,
            "sft_batch_size": 4,
            "gradient_checkpointing": False,
        },
        # 100 real held-out items, both models greedy through llama.cpp (q8_0 GGUF)
        "evaluate": {"limit": 100, "max_tokens": 320, "temperature": 0.0},
    },
}


# The long CPU run (issue 16, docs/benchmarks.md): `cpu` with a third more data, more GRPO
# steps and 300 evaluation items, sized to finish within 2.5 hours on 2 cores with its
# evaluation (which is most of it: 600 greedy answers); resumable like every run. The votes
# stay the `cpu` preset's k = 3, 2 of 3, which the label audit chose.
PRESETS["cpu-long"] = deep_merge(
    PRESETS["cpu"],
    {
        "generate": {"n": 16},
        "select": {"m": 12},
        "train": {"max_steps": 6},
        "evaluate": {"limit": 300},
    },
)
