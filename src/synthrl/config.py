"""Run configuration: one pydantic model whose field defaults are the paper's values (the `paper`
preset); other presets are named sets of overrides. Precedence: preset < task file `settings:` <
CLI `--set section.field=value`. `synthrl config --preset cpu` prints the resolved values.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from synthrl.errors import TaskFileError
from synthrl.presets import PRESETS, deep_merge
from synthrl.schema import YAML_ERRORS, parse_yaml, validate, yaml_problem


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelsConfig(_Section):
    instructor: str = Field("embedded:instructor", description="Instructor model spec.")
    base: str = Field("embedded:base", description="Base (trainable) model spec.")
    base_endpoint: str | None = Field(
        None,
        description="An OpenAI-compatible server serving the base weights (openai:http://HOST/v1"
        "#NAME: vLLM or SGLang on any number of GPUs, or llama.cpp's server); probe and score "
        "sample the base there while train loads `base`. Checked before the first call.",
    )


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
    batch_greedy: bool = Field(
        False,
        description="llama.cpp: decode greedy requests together like sampled ones (several "
        "times faster on a CPU; answers may differ from one-at-a-time decoding on near-ties).",
    )
    structured: bool = Field(
        True,
        description="Ask the instructor for replies that match each stage's JSON shape (keywords "
        "list, pattern, sample {input, output}, rewrite) where the backend can constrain them: "
        "llama.cpp grammars, `response_format` json_schema on OpenAI-compatible servers (dropped "
        "for a server that refuses it), vLLM guided decoding; transformers cannot. Ours, not the "
        "paper's, and on under every preset, `paper` included: the prompts stay the paper's, "
        "only decoding is constrained, and replies are parsed and re-asked as before. false: "
        "free-form replies only.",
    )
    backoff_s: float = Field(
        1.0, ge=0, description="First retry delay; doubles per retry, with jitter."
    )
    prices_file: str | None = Field(None, description="YAML of extra USD prices per 1M tokens.")
    budget_usd: float | None = Field(
        None,
        gt=0,
        description="Stop before the model call that could take the run's spending past this "
        "many USD (earlier commands on the run count); raise it and resume to continue.",
    )
    engine_args: dict[str, Any] = Field(
        default_factory=dict,
        description="Passed to vllm.LLM for vllm: models, e.g. tensor_parallel_size, dtype, "
        "gpu_memory_utilization, revision, quantization.",
    )


class KeywordsConfig(_Section):
    count: int = Field(20, ge=1, description="Keywords the instructor is asked for.")
    temperature: float = Field(0.7, ge=0, description="Instructor temperature.")
    max_tokens: int = Field(512, ge=16)


class RetrieveConfig(_Section):
    enabled: bool = Field(
        True,
        description="Ground each generation prompt in a retrieved passage (paper 4.1, eq. 2). "
        "false: the no-retrieval baseline (Table 3's Self-Instruct-style data): samples are "
        "written from the description, the pattern and the demos alone, and the keywords and "
        "retrieve stages make no call.",
    )
    per_keyword: int = Field(5, ge=1, description="Passages retrieved per keyword.")
    chunk_words: int = Field(
        200, ge=20, description="Passages are cut into chunks of this many words."
    )


class PatternConfig(_Section):
    enabled: bool = Field(
        True,
        description="With demos, the instructor summarises the sample pattern P, shown in every "
        "generation prompt (paper 4.1, eq. 4). false: Table 4's 'w/o sample pattern' ablation "
        "(the demos stay in the prompt; the pattern stage makes no call).",
    )


class GenerateConfig(_Section):
    n: int = Field(500, ge=1, description="Initial samples N (paper: 500).")
    temperature: float = Field(0.7, ge=0, description="Instructor temperature (paper: 0.7).")
    max_tokens: int = Field(1024, ge=16)
    parse_retries: int = Field(2, ge=0, description="Re-asks when a reply is not valid JSON.")
    topup_rounds: int = Field(
        3,
        ge=0,
        description="Rounds of extra requests when parse failures and duplicates leave fewer "
        "than n samples.",
    )
    balance: bool | Literal["auto"] = Field(
        "auto",
        description="label, yes_no and choice tasks (ours, not the paper's): each generation "
        "request names a target answer, cycled over the labels (yes/no, or the option letters, "
        "so the correct letter is spread over positions); the verified label, not the target, "
        "stays the sample's label (choice: verify then moves the correct option to the target "
        "letter, swapping two options' texts). auto: on under every preset but `paper` (the "
        "paper's Figure 6 prompt, which names no target); true / false: on / off for any preset.",
    )


class VerifyConfig(_Section):
    k: int = Field(16, ge=1, description="Instructor answers per sample for the majority vote.")
    temperature: float = Field(0.7, ge=0)
    min_agreement: float = Field(0.5, ge=0, le=1, description="Drop samples below this vote share.")
    max_tokens: int = Field(1024, ge=16)
    adaptive: bool = Field(
        False,
        description="Draw the k votes in rounds and stop a sample once its label and keep/drop "
        "cannot change (exact; ours, off in the paper): same labels, fewer votes.",
    )
    delta: float = Field(
        0.0,
        ge=0,
        lt=0.5,
        description="Adaptive (ours): also stop a sample once the chance that its remaining "
        "votes change its label or keep/drop is at most this (Dirichlet-multinomial posterior "
        "predictive over its answers so far: docs/scoring.md); 0: only the exact rule.",
    )
    permute_options: bool = Field(
        False,
        description="choice tasks (ours, not the paper's): vote j sees the options rotated by j "
        "positions and its letter is mapped back, so a voter's bias towards one position spreads "
        "over the options instead of electing one; each vote is then its own request "
        "(synthrl.synthesis.permute).",
    )
    check_arithmetic: bool = Field(
        False,
        description="number tasks (ours, not the paper's): a vote's Python arithmetic is run by "
        "a whitelisted interpreter and its printed value is the vote's answer; a vote whose "
        "written equations are wrong counts as unreadable (synthrl.synthesis.program).",
    )
    max_label_share: float | None = Field(
        None,
        gt=0,
        le=1,
        description="label, yes_no and choice tasks (ours, not the paper's): after the vote, drop "
        "the lowest-agreement samples of the most common label until no label holds more than "
        "this share of the kept samples (reason `label_share`; needs at least two labels among "
        "the kept samples; synthrl.synthesis.balance). None: off.",
    )

    @model_validator(mode="after")
    def _delta_needs_adaptive(self) -> VerifyConfig:
        if self.delta > 0 and not self.adaptive:
            raise ValueError(
                f"verify.delta={self.delta:g} stops adaptive voting early, but verify.adaptive is "
                "false (all k votes are drawn); set verify.adaptive=true or verify.delta=0"
            )
        return self


class QualityConfig(_Section):
    near_duplicate: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Drop inputs whose MinHash Jaccard with an earlier one is above.",
    )
    contamination: list[str] = Field(
        default_factory=list,
        description="Further evaluation JSONL files; samples sharing a 13-gram with them are "
        "dropped.",
    )
    decontaminate_eval: bool = Field(
        True,
        description="Also drop samples sharing a 13-gram with the task's own `evaluation:` set.",
    )
    skip_checks: list[str] = Field(
        default_factory=list,
        description="Content checks on inputs to turn off (ours; synthrl.synthesis.checks): "
        "reasoning_in_input, answer_format_in_input, states_own_answer, repeats_instructions, "
        "missing_part, near_empty_input, drifted_from_parent.",
    )
    min_input_words: int = Field(
        3, ge=0, description="Drop inputs with fewer words (placeholders and part labels aside)."
    )
    instruction_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Drop inputs whose word 4-grams come from the task's instructions at least "
        "this often.",
    )
    min_parent_similarity: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Drop rewrites whose MiniLM cosine similarity to their parent is below "
        "(they left the task's domain); 0: no embedding check.",
    )

    @field_validator("skip_checks")
    @classmethod
    def _known_checks(cls, value: list[str]) -> list[str]:
        from synthrl.synthesis.checks import CHECKS

        unknown = [name for name in value if name not in CHECKS]
        if unknown:
            raise ValueError(f"unknown check(s) {unknown}; the checks are {', '.join(CHECKS)}")
        return value


class ProbeConfig(_Section):
    max_tokens: int = Field(
        2048, ge=16, description="Base-model tokens for the greedy probe (paper: as training)."
    )


class AdaptConfig(_Section):
    enabled: bool = Field(True, description="Rewrite solved harder and unsolved easier (4.2).")
    temperature: float = Field(0.7, ge=0)
    max_tokens: int = Field(1024, ge=16)


class ScoreConfig(_Section):
    samples: int = Field(64, ge=1, description="Base-model completions per sample, L (paper: 64).")
    temperature: float = Field(0.7, ge=0, description="Sampling temperature (paper: 0.7).")
    max_tokens: int = Field(
        2048,
        ge=16,
        description="Tokens per completion (paper: as training, so a sample that "
        "needs a long solution is not counted as never solved).",
    )
    adaptive: bool = Field(
        False, description="Sample in rounds; stop a sample once its side of the cut is clear."
    )
    # round_size and delta: chosen for the paper's L = 64 on simulated populations before the
    # real draws were replayed (bench/scoring.py --choose, docs/scoring.md); the cpu presets
    # set their own (synthrl.presets)
    round_size: int = Field(8, ge=1, description="Completions per sample per adaptive round.")
    delta: float = Field(
        0.1, gt=0, lt=0.5, description="Adaptive: stop once the other side's chance is below this."
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
    lenient_credit: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Reward for a correct answer read leniently (not in the required format); "
        "in the format it earns 1. 1 = the paper's correctness reward (synthrl.answers.reward).",
    )
    format_reward: float = Field(
        0.0,
        ge=0,
        description="Bonus for the required answer format (ours; the paper rewards correctness "
        "only, so 0 in `paper`).",
    )
    skip_settled: bool = Field(
        False,
        description="GRPO (trl engine, ours): stop drawing prompts whose last `settle_window` "
        "groups were all correct (or all wrong) by the answer checker's binary verdict, for "
        "`settle_steps` steps, filling the batch from the other prompts (synthrl.train.settled).",
    )
    settle_window: int = Field(
        2, ge=1, description="skip_settled: groups in a row without signal that settle a prompt."
    )
    settle_steps: int = Field(
        8, ge=1, description="skip_settled: optimizer steps a settled prompt sits out."
    )
    save_steps: int = Field(
        10, ge=1, description="Checkpoint every N optimizer steps (the resume point after a kill)."
    )
    report_to: list[str] = Field(
        default_factory=list,
        description="Also log to these trackers: any the Hugging Face Trainer takes (tensorboard, "
        "wandb, mlflow, comet_ml, trackio, ...; checked before the run starts). pip install "
        "'synthrl[tracking]' adds tensorboard and wandb; install the others yourself.",
    )
    vllm: bool = Field(False, description="Generate rollouts with vLLM (GPU, TRL colocate mode).")
    trl_args: dict[str, Any] = Field(
        default_factory=dict,
        description="Further TRL GRPOConfig fields, set last (e.g. vllm_mode: server with "
        "vllm_server_host for rollouts on other GPUs, warmup_ratio, max_grad_norm).",
    )
    warmup_epochs: float = Field(
        0,
        ge=0,
        description="Format warm-start (ours): SFT epochs before GRPO on the synthetic samples "
        "whose solution follows the required format and reaches the verified label "
        "(synthrl.train.warmup); 0 = off, as in the paper.",
    )
    warmup_learning_rate: float = Field(1e-4, gt=0, description="Learning rate of the warm-start.")
    sft_learning_rate: float = Field(2e-5, gt=0, description="SFT baseline (paper A.3: 2e-5).")
    sft_weight_decay: float = Field(0.01, ge=0)
    sft_batch_size: int = Field(64, ge=1)
    sft_epochs: float = Field(3, gt=0)
    seed: int = 42


class EvalConfig(_Section):
    limit: int | None = Field(None, ge=1, description="Evaluate on the first N items (None: all).")
    seeds: list[int] = Field(
        default_factory=lambda: [0, 1, 2], description="Seeds (paper: 3 runs, mean +- std)."
    )
    temperature: float = Field(
        0.7,
        ge=0,
        description="0: greedy (one run); > 0: one sampled run per seed (the paper's 3 runs; "
        "it does not state their temperature: 0.7, as its sampling elsewhere).",
    )
    max_tokens: int = Field(2048, ge=16, description="Tokens per answer (paper: as training).")
    engine: Literal["auto", "transformers", "llamacpp", "vllm"] = Field(
        "auto",
        description="Where base and trained model are evaluated (both on the same one): auto = "
        "vllm for a vllm: base, llamacpp (both written as GGUF) on a CPU when the base comes "
        "from a GGUF, else transformers (synthrl.evaluate.engines).",
    )
    gguf_dtype: Literal["q8_0", "f16", "f32"] = Field(
        "q8_0", description="Precision of both models' GGUF for evaluate.engine=llamacpp."
    )
    batch_size: int = Field(8, ge=1, description="Prompts per batch for in-process models.")
    trained_endpoint: str | None = Field(
        None,
        description="An OpenAI-compatible server serving the trained model (e.g. `vllm serve "
        "RUN/train/model`), openai:http://HOST/v1#NAME. With models.base_endpoint, evaluate "
        "asks the two servers (one engine for both models) instead of loading them; checked "
        "when the stage starts that it serves train/model.",
    )


class RunConfig(_Section):
    """Every setting of a run, in sections; validated together (see `_consistent`)."""

    preset: str = "paper"
    models: ModelsConfig = ModelsConfig()
    llm: LLMConfig = LLMConfig()
    keywords: KeywordsConfig = KeywordsConfig()
    retrieve: RetrieveConfig = RetrieveConfig()
    pattern: PatternConfig = PatternConfig()
    generate: GenerateConfig = GenerateConfig()
    verify: VerifyConfig = VerifyConfig()
    quality: QualityConfig = QualityConfig()
    probe: ProbeConfig = ProbeConfig()
    adapt: AdaptConfig = AdaptConfig()
    score: ScoreConfig = ScoreConfig()
    select: SelectConfig = SelectConfig()
    train: TrainConfig = TrainConfig()
    evaluate: EvalConfig = EvalConfig()
    rounds: int = Field(
        1,
        ge=1,
        description="Rounds of probe, adapt, score, select and train (ours, not the paper's): "
        "after a round's training its model is the next round's base, which probes and scores "
        "the previous round's pool again (RUN/round-R/, synthrl.rounds). train.max_steps (or "
        "train.epochs) is split over the rounds: the total training is one round's. 1: the "
        "paper's single round.",
    )
    rounds_evaluate: bool = Field(
        False,
        description="With rounds > 1, also evaluate each earlier round's model "
        "(RUN/round-R/evaluate); the last round's is always evaluated (RUN/evaluate).",
    )

    @model_validator(mode="after")
    def _rounds_train(self) -> RunConfig:
        t, n = self.train, self.rounds
        if n > 1 and (t.engine != "trl" or t.algo != "grpo" or t.data):
            raise ValueError(
                f"rounds={n} continues GRPO with TRL on each round's synthetic selection, which "
                f"train.engine={t.engine}, train.algo={t.algo}, train.data={t.data} do not do: "
                "set rounds=1, or train.engine=trl, train.algo=grpo and no train.data"
            )
        if n > 1 and t.max_steps is not None and t.max_steps < n:
            raise ValueError(
                f"rounds={n} splits train.max_steps ({t.max_steps}) over the rounds, at least one "
                f"step each: raise train.max_steps to {n} or lower rounds"
            )
        return self

    @model_validator(mode="after")
    def _consistent(self) -> RunConfig:
        if self.score.adaptive and self.select.strategy != "potential":
            raise ValueError(
                "score.adaptive stops sampling once a sample's side of the paper's selection cut "
                f"is clear, so it needs select.strategy=potential (got {self.select.strategy!r}); "
                "set score.adaptive=false for the easy/hard/all ablations"
            )
        return self


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
        for depth, part in enumerate(parts[:-1], 1):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise TaskFileError(
                    f"--set {pair!r}: {'.'.join(parts[:depth])} was set to a value by an "
                    "earlier --set; set its fields one by one (section.field=value)."
                )
        try:
            node[parts[-1]] = parse_yaml(raw) if raw.strip() else ""
        except YAML_ERRORS as err:
            raise TaskFileError(
                f"--set {pair!r}: the value is not valid YAML{yaml_problem(err)}. Quote text, "
                "e.g. --set 'section.field=\"a: b\"'."
            ) from None
    return out


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
