"""GRPO with TRL's GRPOTrainer on one machine (CPU or GPU; vLLM rollouts and accelerate /
DeepSpeed for several GPUs through TRL's own options). Resumes from the last checkpoint.

Loss: `train.loss_type` (default `bnpo`: per-token losses averaged over the tokens of each
micro-batch, micro-batches averaged over gradient accumulation), which is how the paper's code
(TinyZero, an early veRL: `masked_mean` per micro-batch) aggregated them; advantages are
group-normalised (reward minus group mean, divided by group std) and the KL penalty (k3
estimator) has weight `train.beta` = 0.01, overriding TRL's defaults (`dapo`, beta 0).

Weights stay in fp32 (on a GPU, bf16 autocast): updates of lr 1e-6 are below bf16's resolution
and would round away in pure-bf16 weights.

Groups without signal (synthrl.train.settled): each row carries its index in a `synthrl_row`
column to the reward function, whose binary verdicts are recorded per prompt; the share of groups
all correct or all wrong is logged per step, and with `train.skip_settled` a `SettledSampler`
replaces TRL's prompt sampler (`use_settled_sampler`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from synthrl.config import TrainConfig
from synthrl.errors import SynthRLError
from synthrl.llm.base import pure_sampling
from synthrl.prompts import plain_prompt
from synthrl.train.metrics import MetricsFile, StateFile, quiet_progress
from synthrl.train.processes import world_size
from synthrl.train.settled import ROW_ID, SettledPrompts, SettledSampler, verdict_recorder


def batch_shape(cfg: TrainConfig, n_prompts: int) -> tuple[int, int]:
    """(per-device batch in completions, gradient accumulation steps); fails before training."""
    per_pass = cfg.micro_batch_prompts * world_size()
    if cfg.prompts_per_step % per_pass:
        raise SynthRLError(
            f"train.prompts_per_step ({cfg.prompts_per_step}) must be a multiple of "
            f"train.micro_batch_prompts x GPUs ({cfg.micro_batch_prompts} x {world_size()})."
        )
    if n_prompts < cfg.prompts_per_step:
        raise SynthRLError(
            f"only {n_prompts} training prompts for train.prompts_per_step={cfg.prompts_per_step}; "
            "lower prompts_per_step or select more samples (select.m)."
        )
    return cfg.micro_batch_prompts * cfg.num_generations, cfg.prompts_per_step // per_pass


def grpo_args(
    cfg: TrainConfig, out_dir: Path, n_prompts: int, stop_ids: list[int] | None = None
) -> Any:
    """TRL GRPOConfig for the paper's (or the preset's) settings.

    Without vLLM, rollouts are generated one accumulation step at a time (`steps_per_generation`
    1): the same on-policy samples as generating the whole step at once (no update happens in
    between), without holding 64 x 16 completions of 2048 tokens in one `generate` call."""
    from trl import GRPOConfig

    per_device, accumulation = batch_shape(cfg, n_prompts)
    with quiet_renames():
        return GRPOConfig(  # train.trl_args: further GRPOConfig fields, set last
            **dict(
                **trainer_args(cfg, out_dir),
                learning_rate=cfg.learning_rate,
                lr_scheduler_type="constant",  # as TinyZero / veRL; HF defaults to a linear decay
                beta=cfg.beta,
                loss_type=cfg.loss_type,
                scale_rewards="group",
                num_generations=cfg.num_generations,
                per_device_train_batch_size=per_device,
                gradient_accumulation_steps=accumulation,
                max_completion_length=cfg.max_completion_tokens,
                temperature=cfg.temperature,
                **pure_sampling(),  # the sampler of probe and score too (docs/sampling.md)
                num_train_epochs=cfg.epochs,
                use_vllm=cfg.vllm,
                vllm_mode="colocate",
                steps_per_generation=None if cfg.vllm else 1,
                # vLLM stops at its tokenizer's EOS only; the extra stop tokens are passed on.
                generation_kwargs={"stop_token_ids": stop_ids} if cfg.vllm and stop_ids else None,
                disable_dropout=True,
                dataloader_num_workers=0,
            )
            | cfg.trl_args
        )


def trainer_args(cfg: TrainConfig, out_dir: Path) -> dict[str, Any]:
    """The Trainer arguments GRPO and SFT share: checkpoints, logging, precision, seed."""
    import torch

    gpu = torch.cuda.is_available()
    return {
        "output_dir": str(out_dir / "checkpoints"),
        "max_steps": cfg.max_steps or -1,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": cfg.save_steps,
        "save_total_limit": 2,
        "report_to": cfg.report_to or "none",
        "gradient_checkpointing": cfg.gradient_checkpointing,
        "seed": cfg.seed,
        "bf16": gpu,  # autocast; the weights stay fp32 (see the module docstring)
        "dataloader_pin_memory": gpu,
    }


@contextmanager
def quiet_renames() -> Iterator[None]:
    """Hide transformers 5 rename warnings for `gradient_checkpointing` (TRL uses the old name)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*gradient_checkpointing.* is deprecated", FutureWarning)
        yield


def lora_config(cfg: TrainConfig) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=2 * cfg.lora_r,
        lora_dropout=0.0,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def last_checkpoint(out_dir: Path) -> str | None:
    """The newest complete checkpoint: the Trainer writes `trainer_state.json` last, so a folder
    without it was cut off mid-save and is skipped."""
    folder = out_dir / "checkpoints"
    if not folder.is_dir():
        return None
    complete = [
        p
        for p in folder.glob("checkpoint-*")
        if p.name.split("-")[-1].isdigit() and _readable_json(p / "trainer_state.json")
    ]
    if not complete:
        return None
    return str(max(complete, key=lambda p: int(p.name.split("-")[-1])))


def _readable_json(path: Path) -> bool:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def train_grpo(
    model_path: str,
    rows: list[dict[str, Any]],
    cfg: TrainConfig,
    out_dir: Path,
    kind: str,
    extra_rewards: list[Any] | None = None,
) -> dict[str, Any]:
    """Train, resuming from the last checkpoint in `out_dir`; save the final model to
    `out_dir/model` (LoRA merged) and return a summary. `extra_rewards` are added to the answer
    checker's reward (e.g. a length penalty)."""
    from datasets import Dataset
    from trl import GRPOTrainer

    from synthrl.answers import make_reward_fn

    batch_shape(cfg, len(rows))  # fail on an impossible batch before loading a model
    if cfg.skip_settled:
        require_sampler_hook()
    model, tokenizer = load_model(model_path), load_tokenizer(model_path)
    base_eos = model.generation_config.eos_token_id
    stop_ids = add_stop_tokens(model, tokenizer, cfg.stop_tokens)
    args = grpo_args(cfg, out_dir, len(rows), stop_ids)
    settled = SettledPrompts(len(rows), cfg.settle_window, cfg.settle_steps)
    load_settled(settled, last_checkpoint(out_dir))
    checker = make_reward_fn(  # type: ignore[arg-type]
        kind,
        format_weight=cfg.format_reward,
        lenient_credit=cfg.lenient_credit,
        on_verdicts=verdict_recorder(settled, gather_processes()),
    )
    reward = trl_reward(checker, cfg.max_completion_tokens, stop_ids)
    dataset = Dataset.from_list(plain_prompts(with_row_ids(rows), tokenizer))
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[reward, *(extra_rewards or [])],
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(cfg) if cfg.lora else None,
        callbacks=[
            MetricsFile(out_dir / "metrics.jsonl", extra=settled.step_metrics),
            StateFile(SETTLED_FILE, settled.state_dict),
        ],
    )
    if cfg.skip_settled:
        use_settled_sampler(trainer, settled)
    quiet_progress(trainer, "train (GRPO)")
    return run_trainer(trainer, out_dir, cfg.lora, base_eos)


SETTLED_FILE = "settled.json"  # in each checkpoint: the prompts' streaks, for a resumed run


def with_row_ids(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row with its index in a `ROW_ID` column (passed through to the reward function)."""
    return [{**row, ROW_ID: i} for i, row in enumerate(rows)]


def load_settled(settled: SettledPrompts, checkpoint: str | None) -> None:
    """Continue the prompts' streaks from the checkpoint a run resumes from."""
    path = Path(checkpoint) / SETTLED_FILE if checkpoint else None
    if path is not None and _readable_json(path):
        settled.load_state_dict(json.loads(path.read_text(encoding="utf-8")))


def gather_processes() -> Any:
    """Under accelerate with several processes, a function collecting a list from all of them
    (each process's sampler must see every verdict); None for one process."""
    if world_size() == 1:
        return None
    from accelerate.utils import gather_object

    return gather_object


def use_settled_sampler(trainer: Any, settled: SettledPrompts) -> None:
    """Make a TRL `GRPOTrainer` draw its prompts with a `SettledSampler`: TRL (1.x) builds its
    `RepeatSampler` in `_get_train_sampler`, which this replaces on the instance with the same
    layout (generation batch, group size, repeats) and the same seeded torch permutations."""
    args = trainer.args

    def sampler(dataset: Any = None) -> SettledSampler:
        return SettledSampler(
            settled,
            batch_size=args.generation_batch_size // trainer.num_generations,
            mini_repeat_count=trainer.num_generations,
            repeat_count=trainer.num_iterations * args.steps_per_generation,
            permute=torch_permutation(args.seed, trainer.shuffle_dataset),
        )

    trainer._get_train_sampler = sampler


def require_sampler_hook() -> None:
    """Fail before training if the installed TRL builds its prompt sampler elsewhere."""
    import trl
    from trl import GRPOTrainer

    if "_get_train_sampler" not in vars(GRPOTrainer):
        raise SynthRLError(
            "train.skip_settled replaces TRL's GRPOTrainer._get_train_sampler, which TRL "
            f"{trl.__version__} does not define; set train.skip_settled=false or use TRL 1.x."
        )


def torch_permutation(seed: int, shuffle: bool = True) -> Any:
    """Permutations as TRL's `RepeatSampler` draws them (torch, one generator seeded once)."""
    if not shuffle:
        return lambda n: list(range(n))
    import torch

    generator = torch.Generator()
    generator.manual_seed(seed)
    return lambda n: torch.randperm(n, generator=generator).tolist()


KEEP = object()  # run_trainer's default: leave the generation config as it is


def run_trainer(trainer: Any, out_dir: Path, lora: bool, base_eos: Any = KEEP) -> dict[str, Any]:
    """Train (resuming from the last checkpoint in `out_dir`), save the final model, summarise.

    `base_eos`: the generation config's EOS ids before the rollout stop tokens were added; the
    saved model gets them back, so it generates exactly as the base does (a fair evaluation)."""
    resume = last_checkpoint(out_dir)
    with quiet_renames():
        result = trainer.train(resume_from_checkpoint=resume)
    if base_eos is not KEEP:
        trainer.model.generation_config.eos_token_id = base_eos
    final = save_final(trainer, out_dir / "model", lora)
    return {
        "steps": trainer.state.global_step,
        "resumed_from": resume,
        "train_loss": result.training_loss,
        "model": str(final),
    }


def trl_reward(inner: Any, max_tokens: int, eos_ids: list[int]) -> Any:
    """The answer checker's reward as TRL calls it: decode the JSON option columns (Arrow keeps
    one type per column), and tell the checker which completions were cut off at the token
    limit (no EOS among TRL's `completion_ids`, which end at the first EOS), so a rollout is
    judged by the same cut-off policy as every stage (`synthrl.answers.extract`)."""
    stops = set(eos_ids)

    def reward(completions: list[Any], answer: list[str], **columns: Any) -> list[float]:
        for key in ("options", "synonyms"):
            if key in columns:
                columns[key] = [json.loads(v) if isinstance(v, str) else v for v in columns[key]]
        ids = columns.pop("completion_ids", None)
        if ids is not None:
            columns["truncated"] = [
                len(row) >= max_tokens and not (row and row[-1] in stops) for row in ids
            ]
        return inner(completions, answer, **columns)

    reward.__name__ = inner.__name__
    return reward


def load_model(path: str) -> Any:
    """fp32 weights (see the module docstring); on a GPU, TRL's `bf16` autocasts the compute."""
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)


def plain_prompts(rows: list[dict[str, Any]], tokenizer: Any) -> list[dict[str, Any]]:
    """Rows as they are for a chat model; for a model without a chat template, the messages
    become one raw prompt string (and an SFT completion its text), as every backend renders them."""
    if tokenizer.chat_template:
        return rows
    out = []
    for row in rows:
        row = {**row, "prompt": plain_prompt(row["prompt"])}
        if isinstance(row.get("completion"), list):
            row["completion"] = "".join(m["content"] for m in row["completion"])
        out.append(row)
    return out


def add_stop_tokens(model: Any, tokenizer: Any, stops: list[str]) -> list[int]:
    """Make each stop string an end-of-sequence token of `model`'s generation config, so TRL
    ends rollouts there and masks what follows; return the EOS ids. Only single tokens can stop
    TRL's `generate` (it passes no tokenizer for multi-token stop strings)."""
    eos = model.generation_config.eos_token_id
    ids = [] if eos is None else [eos] if isinstance(eos, int) else list(eos)
    for stop in stops:
        token_ids = tokenizer.encode(stop, add_special_tokens=False)
        if len(token_ids) != 1:
            raise SynthRLError(
                f"train.stop_tokens: {stop!r} is {len(token_ids)} tokens for this model's "
                "tokenizer; only single tokens can end a rollout. Remove it or use another."
            )
        if token_ids[0] not in ids:
            ids.append(token_ids[0])
    model.generation_config.eos_token_id = ids
    return ids


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def save_final(trainer: Any, target: Path, lora: bool) -> Path:
    """Save a plain Hugging Face model (LoRA merged) and its tokenizer.

    One process: merge in memory. Several (accelerate / DeepSpeed): every rank takes part in
    `trainer.save_model` (which gathers sharded weights); rank 0 then merges a LoRA adapter into
    a fresh copy of the base."""
    if world_size() == 1:
        model = trainer.model
        if lora and hasattr(model, "merge_and_unload"):
            model = model.merge_and_unload()
        model.save_pretrained(str(target))
        trainer.processing_class.save_pretrained(str(target))
        return target
    adapter = target.parent / "adapter" if lora else target
    trainer.save_model(str(adapter))
    if trainer.accelerator.is_main_process:
        if lora:
            import torch
            from peft import AutoPeftModelForCausalLM

            merged = AutoPeftModelForCausalLM.from_pretrained(
                str(adapter), dtype=torch.float32
            ).merge_and_unload()
            merged.save_pretrained(str(target))
        trainer.processing_class.save_pretrained(str(target))
    trainer.accelerator.wait_for_everyone()
    return target
