"""GRPO step time and peak memory: `synthrl train` (train_grpo) vs a minimal hand-written TRL
script on the same data (GSM8K train questions) and settings, with and without LoRA, on the
embedded base model (fp32, CPU).

    .venv/bin/python bench/train.py [--quick]

Each configuration runs in its own process (peak RSS is per process). Both trainers use the same
reward (synthrl's answer checker, as a plain TRL reward function), seed and settings, so they
sample the same completions and differ only in what synthrl wraps around TRL. Seconds per step
are the median interval between logged steps (model loading and saving excluded). Prints a
table and `BENCH train overhead_pct=... target=5 PASS|MISS` (synthrl vs the plain script, worst
of LoRA / full fine-tune).
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def questions(count: int) -> list[dict[str, str]]:
    path = ROOT.parent / "shared" / "benchmarks" / "gsm8k" / "train.jsonl"
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            rows.append(
                {"input": row["question"], "label": row["answer"].rsplit("####", 1)[1].strip()}
            )
            if len(rows) == count:
                break
    return rows


def settings(quick: bool, lora: bool) -> dict:
    return {
        "num_generations": 4 if quick else 8,
        "prompts_per_step": 1,
        "max_completion_tokens": 32 if quick else 96,
        "max_steps": 6 if quick else 8,
        "learning_rate": 1e-4 if lora else 1e-6,
        "lora": lora,
        "lora_r": 16,
        "temperature": 1.0,
        "beta": 0.01,
        "save_steps": 1000,
        "gradient_checkpointing": False,
        "loss_type": "bnpo",
    }


def run_synthrl(out: Path, quick: bool, lora: bool) -> list[float]:
    from synthrl.config import resolve_config
    from synthrl.models import hf_path
    from synthrl.task import load_task
    from synthrl.train.data import rows_from_selected
    from synthrl.train.trl_grpo import train_grpo

    task = load_task(ROOT / "examples/tasks/gsm8k.yaml")
    cfg = resolve_config("cpu", overrides={"train": settings(quick, lora)}).train
    rows = rows_from_selected(task, questions(8), "grpo")
    train_grpo(str(hf_path("base")), rows, cfg, out, "number")
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [m["seconds"] for m in logged if "reward" in m]


def run_plain(out: Path, quick: bool, lora: bool) -> list[float]:
    """The hand-written baseline: plain TRL, a regex reward, nothing else."""
    import torch
    import yaml
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from synthrl.models import hf_path

    s = settings(quick, lora)
    path = str(hf_path("base"))
    task = yaml.safe_load((ROOT / "examples/tasks/gsm8k.yaml").read_text())
    data = [  # the same prompt text synthrl builds: description, question, output format
        {
            "prompt": [
                {
                    "role": "user",
                    "content": f"{task['description']}\n\n{q['input']}\n\n{task['output_format']}",
                }
            ],
            "answer": q["label"],
        }
        for q in questions(8)
    ]

    from synthrl.answers import make_reward_fn

    reward = make_reward_fn("number", format_weight=0.1)  # a plain f(completions, answer)

    times: list[float] = []

    class Clock(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "reward" in logs:
                times.append(time.time())

    config = GRPOConfig(
        output_dir=str(out),
        learning_rate=s["learning_rate"],
        lr_scheduler_type="constant",
        beta=s["beta"],
        loss_type="bnpo",
        num_generations=s["num_generations"],
        per_device_train_batch_size=s["num_generations"],
        max_completion_length=s["max_completion_tokens"],
        temperature=s["temperature"],
        max_steps=s["max_steps"],
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        gradient_checkpointing=False,
        disable_dropout=True,
        bf16=False,
    )
    peft = LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM")
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.generation_config.eos_token_id = [151645, 151643]  # <|im_end|>, <|endoftext|>
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=config,
        train_dataset=Dataset.from_list(data),
        processing_class=AutoTokenizer.from_pretrained(path),
        peft_config=peft if lora else None,
        callbacks=[Clock()],
    )
    trainer.train()
    return times


def worker(kind: str, quick: bool, lora: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stamps = (run_synthrl if kind == "synthrl" else run_plain)(Path(tmp), quick, lora)
    per_step = statistics.median(b - a for a, b in itertools.pairwise(stamps))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds_per_step": per_step, "peak_rss_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 completions x 32 tokens, 6 steps")
    parser.add_argument("--worker", choices=["synthrl", "plain"])
    parser.add_argument("--lora", type=int, default=1)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.quick, bool(args.lora))
        return
    results = {}
    for lora in (True, False):
        for kind in ("plain", "synthrl"):
            command = [sys.executable, __file__, "--worker", kind, "--lora", str(int(lora))]
            command += ["--quick"] if args.quick else []
            proc = subprocess.run(command, capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"{kind} (LoRA={lora}) failed:\n{proc.stderr[-3000:]}")
            results[(kind, lora)] = json.loads(proc.stdout.strip().splitlines()[-1])
    s = settings(args.quick, True)
    print(
        f"\nGRPO on the embedded base (fp32, CPU), 1 prompt x {s['num_generations']} completions x "
        f"{s['max_completion_tokens']} tokens per step, {s['max_steps']} steps\n"
    )
    print("| trainer | LoRA | s/step | peak RSS MB | s/step vs plain TRL |")
    print("|---|---|---:|---:|---:|")
    worst = 0.0
    for (kind, lora), r in results.items():
        base = results[("plain", lora)]["seconds_per_step"]
        ratio = r["seconds_per_step"] / base
        worst = max(worst, (ratio - 1) * 100) if kind == "synthrl" else worst
        print(
            f"| {kind} | {'yes' if lora else 'no'} | {r['seconds_per_step']:.1f} | "
            f"{r['peak_rss_mb']:.0f} | {ratio:.3f}x |"
        )
    verdict = "PASS" if worst < 5 else "MISS"
    print(f"\nBENCH train overhead_pct={max(worst, 0):.2f} target=5 {verdict}")


if __name__ == "__main__":
    main()
