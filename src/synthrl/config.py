"""Run configuration: one pydantic model whose field defaults are the paper's values (the `paper`
preset); other presets are named sets of overrides. Precedence: preset < task file `settings:` <
CLI `--set section.field=value`. `synthrl config --preset cpu` prints the resolved values.
"""

from __future__ import annotations

from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from synthrl.errors import TaskFileError
from synthrl.schema import validate


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelsConfig(_Section):
    instructor: str = Field("embedded:instructor", description="Instructor model spec.")
    base: str = Field("embedded:base", description="Base (trainable) model spec.")


class LLMConfig(_Section):
    concurrency: int = Field(16, ge=1, description="Requests in flight at once (API backends).")
    max_retries: int = Field(5, ge=0, description="Retries on 429/5xx/timeouts before giving up.")
    timeout_s: float = Field(600.0, gt=0, description="Seconds before one request times out.")
    seed: int = Field(
        0, description="Base seed; sample i of a request uses a seed derived from it."
    )
    threads: int | None = Field(None, ge=1, description="CPU threads for llama.cpp (default: all).")
    context: int = Field(4096, ge=512, description="Context length for in-process models.")
    parallel: int = Field(
        16,
        ge=1,
        description="Sequences llama.cpp samples together (temperature > 0); 1: one at a time.",
    )
    backoff_s: float = Field(
        1.0, ge=0, description="First retry delay; doubles per retry, with jitter."
    )
    prices_file: str | None = Field(None, description="YAML of extra USD prices per 1M tokens.")


class KeywordsConfig(_Section):
    count: int = Field(20, ge=1, description="Keywords the instructor is asked for.")
    temperature: float = Field(0.7, ge=0, description="Instructor temperature.")
    max_tokens: int = Field(512, ge=16)


class RetrieveConfig(_Section):
    per_keyword: int = Field(5, ge=1, description="Passages retrieved per keyword.")
    chunk_words: int = Field(
        200, ge=20, description="Passages are cut into chunks of this many words."
    )


class GenerateConfig(_Section):
    n: int = Field(500, ge=1, description="Initial samples N (paper: 500).")
    temperature: float = Field(0.7, ge=0, description="Instructor temperature (paper: 0.7).")
    max_tokens: int = Field(1024, ge=16)
    parse_retries: int = Field(2, ge=0, description="Re-asks when a reply is not valid JSON.")


class VerifyConfig(_Section):
    k: int = Field(16, ge=1, description="Instructor answers per sample for the majority vote.")
    temperature: float = Field(0.7, ge=0)
    min_agreement: float = Field(0.5, ge=0, le=1, description="Drop samples below this vote share.")
    max_tokens: int = Field(1024, ge=16)


class QualityConfig(_Section):
    near_duplicate: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Drop inputs whose MinHash Jaccard with an earlier one is above.",
    )
    contamination: list[str] = Field(
        default_factory=list,
        description="Evaluation JSONL files; samples sharing a 13-gram with them are dropped.",
    )


class ProbeConfig(_Section):
    max_tokens: int = Field(1024, ge=16, description="Base-model tokens for the greedy probe.")


class AdaptConfig(_Section):
    enabled: bool = Field(True, description="Rewrite solved harder and unsolved easier (4.2).")
    temperature: float = Field(0.7, ge=0)
    max_tokens: int = Field(1024, ge=16)


class ScoreConfig(_Section):
    samples: int = Field(64, ge=1, description="Base-model completions per sample, L (paper: 64).")
    temperature: float = Field(0.7, ge=0, description="Sampling temperature (paper: 0.7).")
    max_tokens: int = Field(1024, ge=16)
    adaptive: bool = Field(
        False, description="Sample in rounds; stop a sample once its side of the cut is clear."
    )
    round_size: int = Field(4, ge=1, description="Completions per sample per adaptive round.")
    delta: float = Field(
        0.05, gt=0, lt=0.5, description="Adaptive: stop once the other side's chance is below this."
    )


class SelectConfig(_Section):
    m: int = Field(500, ge=1, description="Training set size M (paper: 500).")
    strategy: Literal["potential", "easy", "hard", "all"] = Field(
        "potential", description="potential (paper), or the Table 4 ablations easy/hard/all."
    )


class TrainConfig(_Section):
    engine: Literal["trl", "verl"] = Field("trl", description="trl (one machine) or verl (Ray).")
    algo: Literal["grpo", "sft"] = Field("grpo", description="grpo (paper) or the sft baseline.")
    data: str | None = Field(
        None,
        description="Train on this human-labelled JSONL / Parquet file (or hf:NAME[@split]) "
        "instead of the synthetic selection (the paper's RL (Same) / RL (Whole) baselines).",
    )
    data_fields: dict[str, str] = Field(
        default_factory=dict,
        description="Field mapping for `data`: question, answer, and optionally context, "
        "options, solution (SFT), id.",
    )
    data_limit: int | None = Field(
        None, ge=1, description="Train on a random subset (seed train.seed) of N rows of `data`."
    )
    learning_rate: float = Field(1e-6, gt=0, description="GRPO learning rate (paper: 1e-6).")
    num_generations: int = Field(16, ge=2, description="Completions per prompt (GRPO group size).")
    prompts_per_step: int = Field(64, ge=1, description="Prompts per optimizer step (paper: 64).")
    micro_batch_prompts: int = Field(
        1, ge=1, description="Prompts per forward pass per device; the rest is accumulated."
    )
    max_completion_tokens: int = Field(2048, ge=8, description="Max response tokens (paper: 2048).")
    beta: float = Field(0.01, ge=0, description="KL coefficient (paper: 0.01).")
    loss_type: Literal["bnpo", "grpo", "dapo", "dr_grpo"] = Field(
        "bnpo",
        description="TRL loss aggregation. bnpo = token mean per micro-batch, averaged over "
        "accumulation, as the paper's TinyZero code did; grpo = per-sequence mean (DeepSeekMath); "
        "dapo = token mean over the whole batch (veRL 0.9's token-mean).",
    )
    epochs: float = Field(5, gt=0, description="Passes over the training set (paper: 5).")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimizer steps.")
    temperature: float = Field(1.2, gt=0, description="Rollout temperature (paper A.3: 1.2).")
    stop_tokens: list[str] = Field(
        default_factory=list,
        description="Extra single-token stop strings that end a rollout (added to the EOS ids).",
    )
    lora: bool = Field(False, description="Train a LoRA adapter (merged into the saved model).")
    gradient_checkpointing: bool = Field(
        True, description="Recompute activations in backward (saves GPU memory, costs time)."
    )
    lora_r: int = Field(16, ge=1)
    format_reward: float = Field(0.1, ge=0, description="Bonus for the required answer format.")
    save_steps: int = Field(
        10, ge=1, description="Checkpoint every N optimizer steps (the resume point after a kill)."
    )
    report_to: list[Literal["tensorboard", "wandb"]] = Field(
        default_factory=list,
        description="Also log to these (pip install 'synthrl[tracking]'): tensorboard, wandb.",
    )
    vllm: bool = Field(False, description="Generate rollouts with vLLM (GPU, TRL colocate mode).")
    sft_learning_rate: float = Field(2e-5, gt=0, description="SFT baseline (paper A.3: 2e-5).")
    sft_weight_decay: float = Field(0.01, ge=0)
    sft_batch_size: int = Field(64, ge=1)
    sft_epochs: float = Field(3, gt=0)
    seed: int = 42


class EvalConfig(_Section):
    limit: int | None = Field(None, ge=1, description="Evaluate on the first N items (None: all).")
    seeds: list[int] = Field(
        default_factory=lambda: [0, 1, 2], description="Seeds (paper: 3 runs)."
    )
    temperature: float = Field(0.0, ge=0, description="0: greedy (one run); > 0: sampled per seed.")
    max_tokens: int = Field(1024, ge=16)
    batch_size: int = Field(8, ge=1, description="Prompts per batch for in-process models.")


class RunConfig(_Section):
    preset: str = "paper"
    models: ModelsConfig = ModelsConfig()
    llm: LLMConfig = LLMConfig()
    keywords: KeywordsConfig = KeywordsConfig()
    retrieve: RetrieveConfig = RetrieveConfig()
    generate: GenerateConfig = GenerateConfig()
    verify: VerifyConfig = VerifyConfig()
    quality: QualityConfig = QualityConfig()
    probe: ProbeConfig = ProbeConfig()
    adapt: AdaptConfig = AdaptConfig()
    score: ScoreConfig = ScoreConfig()
    select: SelectConfig = SelectConfig()
    train: TrainConfig = TrainConfig()
    evaluate: EvalConfig = EvalConfig()


PRESETS: dict[str, dict[str, Any]] = {
    # The paper's settings (section 5.1, appendix A.3) are the field defaults above.
    "paper": {},
    # Scaled down for 2 CPU cores and the embedded models (`make demo`: docs/benchmarks.md).
    "cpu": {
        "llm": {"context": 2048},
        "keywords": {"count": 8, "max_tokens": 256},
        "retrieve": {"per_keyword": 3},
        "generate": {"n": 6, "max_tokens": 320},
        "verify": {"k": 3, "max_tokens": 256},
        "probe": {"max_tokens": 256},
        "adapt": {"max_tokens": 320},
        "score": {"samples": 8, "max_tokens": 128, "adaptive": True},
        "select": {"m": 6},
        "train": {
            "learning_rate": 1e-4,
            "num_generations": 6,
            "prompts_per_step": 1,
            "max_completion_tokens": 128,
            "epochs": 1,
            "temperature": 1.0,
            "stop_tokens": ["<|im_end|>", "<|endoftext|>"],
            "lora": True,
            "save_steps": 2,
            "sft_batch_size": 4,
            "gradient_checkpointing": False,
        },
        "evaluate": {"limit": 20, "max_tokens": 256},
    },
}


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ['generate.n=20', 'train.lora=true'] into a nested dict of YAML scalars."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise TaskFileError(
                f"--set {pair!r}: write it as section.field=value, e.g. generate.n=20."
            )
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(raw) if raw.strip() else ""
    return out


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `extra` merged in, recursing into nested dicts."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_config(
    preset: str = "paper",
    task_settings: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    source: str = "settings",
) -> RunConfig:
    """Build the run configuration: preset, then the task file's settings, then CLI overrides."""
    if preset not in PRESETS:
        raise TaskFileError(f"unknown preset {preset!r}; use one of: {', '.join(PRESETS)}.")
    data = deep_merge(PRESETS[preset], task_settings or {})
    data = deep_merge(data, overrides or {})
    data["preset"] = preset
    return validate(RunConfig, data, source, prefix="settings.")
