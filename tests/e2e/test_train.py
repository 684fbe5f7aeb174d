"""GRPO with TRL on the real embedded base model (LoRA, CPU, tiny settings): parameters change,
the reward is logged every step, the saved model reloads with transformers and generates, and a
run killed mid-training resumes from its last checkpoint. Also the SFT baseline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from synthrl.config import resolve_config
from synthrl.task import load_task
from synthrl.train.data import rows_from_selected
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.slow

SELECTED = [
    {
        "id": "g1",
        "input": "Tom has 3 apples and buys 4 more. How many apples does he have?",
        "label": "7",
        "reference": "3 + 4 = 7\n#### 7",
        "pass_rate": 0.5,
    },
    {
        "id": "g2",
        "input": "A pen costs 2 dollars. How much do 5 pens cost?",
        "label": "10",
        "reference": "5 * 2 = 10\n#### 10",
        "pass_rate": 0.25,
    },
]

TINY = {
    "num_generations": 4,
    "prompts_per_step": 1,
    "max_completion_tokens": 12,
    "max_steps": 2,
    "save_steps": 1,
    "learning_rate": 5e-3,
    "lora": True,
    "lora_r": 4,
    "temperature": 1.0,
}


def length_reward(completions: list, **_: object) -> list[float]:
    """Always differs within a group, so every step has a non-zero policy gradient."""
    from synthrl.answers.reward import completion_text

    return [-len(completion_text(c)) / 100 for c in completions]


@pytest.fixture(scope="module")
def base_hf() -> str:
    from synthrl.models import hf_path

    return str(hf_path("base"))


def test_grpo_changes_parameters_logs_rewards_and_reloads(base_hf: str, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from synthrl.train.trl_grpo import train_grpo

    task = load_task(EXAMPLES / "gsm8k.yaml")
    cfg = resolve_config("cpu", overrides={"train": TINY}).train
    rows = rows_from_selected(task, SELECTED, "grpo")
    summary = train_grpo(base_hf, rows, cfg, tmp_path, "number", extra_rewards=[length_reward])
    assert summary["steps"] == 2

    metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    steps = [m for m in metrics if "reward" in m]
    assert [m["step"] for m in steps] == [1, 2]
    assert all("rewards_synthrl_number_reward_mean" in m and "kl" in m for m in steps)

    before = load_file(str(Path(base_hf) / "model.safetensors"))
    after = load_file(str(tmp_path / "model" / "model.safetensors"))
    name = "model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(before[name], after[name])

    model = AutoModelForCausalLM.from_pretrained(str(tmp_path / "model"))
    tokenizer = AutoTokenizer.from_pretrained(str(tmp_path / "model"))
    ids = tokenizer("2 + 2 =", return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == ids["input_ids"].shape[1] + 3
    # the rollout stop tokens are not baked in: it generates as the base does (fair evaluation)
    base_eos = AutoModelForCausalLM.from_pretrained(base_hf).generation_config.eos_token_id
    assert model.generation_config.eos_token_id == base_eos

    from synthrl.llm import Request, open_backend

    backend = open_backend(f"hf:{tmp_path / 'model'}")  # synthrl's own hf: backend loads it
    try:
        done: list = []
        backend.generate([Request(prompt="2 + 2 =", max_tokens=3)], lambda i, r: done.append(r))
    finally:
        backend.close()
    assert done and done[0].samples[0].completion_tokens > 0


def test_sft_baseline_trains(base_hf: str, tmp_path: Path) -> None:
    from synthrl.train.trl_sft import train_sft

    task = load_task(EXAMPLES / "gsm8k.yaml")
    cfg = resolve_config(
        "cpu",
        overrides={
            "train": {"algo": "sft", "max_steps": 1, "sft_batch_size": 2, "lora": True, "lora_r": 4}
        },
    ).train
    summary = train_sft(base_hf, rows_from_selected(task, SELECTED, "sft"), cfg, tmp_path)
    assert summary["steps"] == 1 and (tmp_path / "model" / "config.json").is_file()
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert any("loss" in m for m in logged)


def make_run(tmp_path: Path) -> Path:
    """A run directory whose select stage finished (samples hand-written, not synthesised)."""
    from synthrl.artifacts import RunDir, write_jsonl
    from synthrl.pipeline import fingerprint, write_run_info
    from synthrl.stages import STAGES

    task_path = EXAMPLES / "gsm8k.yaml"
    task = load_task(task_path)
    # GRPO alone: the format warm-start (which reads adapt/samples.jsonl) is off here
    config = resolve_config(
        "cpu", overrides={"train": {**TINY, "max_steps": 4, "warmup_epochs": 0}}
    )
    run = RunDir(tmp_path / "run")
    write_run_info(run, task_path, task, config)
    names = [stage.name for stage in STAGES]
    for stage in STAGES[: names.index("train")]:  # mark every stage before train finished
        folder = run.begin(stage.name)
        if stage.name == "select":
            write_jsonl(folder / "selected.jsonl", SELECTED)
        run.finish(
            stage.name,
            {
                "stage": stage.name,
                "fingerprint": fingerprint(stage, task, config, run),
                "counts": {},
            },
        )
    return run.root


def test_killed_training_resumes_from_last_checkpoint(base_hf: str, tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    command = [sys.executable, "-m", "synthrl.cli", "train", str(run_dir)]
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    checkpoints = run_dir / "train" / "checkpoints"
    deadline = time.time() + 600
    while (
        time.time() < deadline
        and not (checkpoints / "checkpoint-2" / "trainer_state.json").exists()
    ):
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        time.sleep(1)
    time.sleep(1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "train" / "manifest.json").exists()

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    summary = json.loads((run_dir / "train" / "summary.json").read_text())
    assert summary["steps"] == 4
    assert summary["resumed_from"] and int(summary["resumed_from"].rsplit("-", 1)[1]) >= 2
    logged = [
        json.loads(line)["step"]
        for line in (run_dir / "train" / "metrics.jsonl").read_text().splitlines()
        if "reward" in json.loads(line)
    ]
    assert logged == [1, 2, 3, 4]  # rows past the resume point were dropped, then relogged
    manifest = json.loads((run_dir / "train" / "manifest.json").read_text())
    assert any("resumed from" in note for note in manifest["notes"])


def test_stop_tokens_become_eos_ids_of_the_rollout_model(base_hf: str) -> None:
    from types import SimpleNamespace

    from transformers import AutoTokenizer, GenerationConfig

    from synthrl.errors import SynthRLError
    from synthrl.train.trl_grpo import add_stop_tokens

    tokenizer = AutoTokenizer.from_pretrained(base_hf)
    model = SimpleNamespace(generation_config=GenerationConfig(eos_token_id=151645))
    stops = resolve_config("cpu").train.stop_tokens
    ids = add_stop_tokens(model, tokenizer, stops)
    assert ids == [151645, tokenizer.convert_tokens_to_ids("<|endoftext|>")]
    assert model.generation_config.eos_token_id == ids
    with pytest.raises(SynthRLError, match="only single tokens"):
        add_stop_tokens(model, tokenizer, ["\n\nQuestion:"])
