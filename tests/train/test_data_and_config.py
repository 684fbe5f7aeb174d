"""Training inputs without a model: human-data rows (JSONL / Parquet, field mapping, options,
SFT solutions, seeded subsets), raw prompts for models without a chat template, the paper
preset's TRL configuration, checkpoint choice on resume, metrics trimmed on resume, trackers."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthrl.config import resolve_config
from synthrl.errors import SynthRLError
from synthrl.task import load_task
from synthrl.train.data import rows_from_file
from tests.conftest import EXAMPLES

GSM8K = load_task(EXAMPLES / "gsm8k.yaml")
LOGIQA = load_task(EXAMPLES / "logiqa.yaml")


def test_gsm8k_train_rows_extract_the_gold_answer(benchmarks: Path) -> None:
    rows = rows_from_file(GSM8K, benchmarks / "gsm8k" / "train.jsonl", {}, "grpo", limit=5)
    assert len(rows) == 5
    source = [json.loads(x) for x in (benchmarks / "gsm8k" / "train.jsonl").open()]
    golds = {r["answer"].rsplit("####", 1)[1].strip().replace(",", "") for r in source}
    questions = {r["question"].strip() for r in source}
    for row in rows:
        assert row["answer"] in golds and row["kind"] == "number"
        content = row["prompt"][0]["content"]
        assert any(q in content for q in questions) and "####" in content  # output format


def test_limit_is_a_seeded_random_subset(benchmarks: Path) -> None:
    path = benchmarks / "gsm8k" / "train.jsonl"
    first = rows_from_file(GSM8K, path, {}, "grpo", limit=20, seed=1)
    again = rows_from_file(GSM8K, path, {}, "grpo", limit=20, seed=1)
    other = rows_from_file(GSM8K, path, {}, "grpo", limit=20, seed=2)
    head = rows_from_file(GSM8K, path, {}, "grpo")[:20]
    assert first == again and first != other and first != head


def test_choice_rows_from_parquet_map_context_and_options(tmp_path: Path) -> None:
    path = tmp_path / "logic.parquet"
    records = [
        {
            "passage": "All cats purr. Tom is a cat.",
            "ask": "What follows?",
            "choices": ["Tom barks", "Tom purrs", "Tom flies", "Tom sings"],
            "gold": "B",
        }
    ]
    pq.write_table(pa.Table.from_pylist(records), path)
    fields = {"context": "passage", "question": "ask", "options": "choices", "answer": "gold"}
    (row,) = rows_from_file(LOGIQA, path, fields, "grpo")
    content = row["prompt"][0]["content"]
    assert "Context: All cats purr" in content and "B. Tom purrs" in content
    assert row["answer"] == "B" and row["letters"] == "ABCD"
    assert json.loads(row["options"])["B"] == "Tom purrs"


def test_sft_rows_train_on_the_solution_field(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    record = {"q": "2 + 2?", "final": "4", "worked": "2 + 2 = 4\n#### 4"}
    path.write_text(json.dumps(record) + "\n")
    fields = {"question": "q", "answer": "final", "solution": "worked"}
    (sft,) = rows_from_file(GSM8K, path, fields, "sft")
    assert sft["completion"] == [{"role": "assistant", "content": "2 + 2 = 4\n#### 4"}]
    (grpo,) = rows_from_file(GSM8K, path, fields, "grpo")
    assert grpo["answer"] == "4"
    # no `solution` mapped: SFT trains on the mapped answer field
    (sft,) = rows_from_file(GSM8K, path, {"question": "q", "answer": "worked"}, "sft")
    assert sft["completion"][0]["content"] == "2 + 2 = 4\n#### 4"


def test_bad_training_data_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SynthRLError, match="no such file"):
        rows_from_file(GSM8K, tmp_path / "missing.jsonl", {}, "grpo")
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps({"problem": "x", "answer": "1"}) + "\n")
    with pytest.raises(SynthRLError, match="no field 'question'"):
        rows_from_file(GSM8K, path, {}, "grpo")


def test_models_without_a_chat_template_get_raw_prompts() -> None:
    from synthrl.train.trl_grpo import plain_prompts

    rows = [
        {
            "prompt": [{"role": "user", "content": "Solve: 1 + 1"}],
            "completion": [{"role": "assistant", "content": "#### 2"}],
        }
    ]
    assert plain_prompts(rows, SimpleNamespace(chat_template="{{ x }}")) is rows
    (row,) = plain_prompts(rows, SimpleNamespace(chat_template=None))
    assert row == {"prompt": "Solve: 1 + 1\n\n", "completion": "#### 2"}


def test_paper_preset_becomes_the_appendix_a3_trl_config(tmp_path: Path) -> None:
    from synthrl.train.trl_grpo import grpo_args

    args = grpo_args(resolve_config("paper").train, tmp_path, n_prompts=500)
    assert args.learning_rate == 1e-6 and args.beta == 0.01 and args.temperature == 1.2
    assert args.num_generations == 16 and args.max_completion_length == 2048
    assert args.num_train_epochs == 5 and args.loss_type == "bnpo"
    # 1 prompt x 16 completions per pass, 64 passes accumulated: 64 prompts per optimizer step
    assert args.per_device_train_batch_size == 16 and args.gradient_accumulation_steps == 64
    assert args.steps_per_generation == 1  # no vLLM: roll out one pass at a time
    assert args.save_steps == 10 and args.scale_rewards == "group"
    assert args.lr_scheduler_type == "constant"  # TinyZero/veRL's schedule
    with_vllm = resolve_config("paper", overrides={"train": {"vllm": True}}).train
    args = grpo_args(with_vllm, tmp_path, n_prompts=500, stop_ids=[7, 8])
    assert args.use_vllm and args.generation_kwargs == {"stop_token_ids": [7, 8]}
    assert args.steps_per_generation == 64  # TRL's default: the whole step in one generation


def test_resume_takes_the_newest_complete_checkpoint(tmp_path: Path) -> None:
    from synthrl.train.trl_grpo import last_checkpoint

    folder = tmp_path / "checkpoints"
    assert last_checkpoint(tmp_path) is None
    for step, state in ((2, "{}"), (10, "{}"), (12, '{"truncat'), (14, None)):
        (folder / f"checkpoint-{step}").mkdir(parents=True)
        if state is not None:
            (folder / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    assert last_checkpoint(tmp_path) == str(folder / "checkpoint-10")


def test_metrics_file_drops_rows_past_the_resume_point(tmp_path: Path) -> None:
    from synthrl.train.metrics import MetricsFile

    path = tmp_path / "metrics.jsonl"
    rows = "".join(json.dumps({"step": s, "seconds": 10.0 * s}) + "\n" for s in (1, 2, 3))
    path.write_text(rows + '{"step": 4, "secon')  # the kill cut the last line off
    callback = MetricsFile(path)
    state = SimpleNamespace(global_step=2, is_world_process_zero=True)
    callback.on_train_begin(None, state, None)
    assert [json.loads(x)["step"] for x in path.read_text().splitlines()] == [1, 2]
    state.global_step = 3
    callback.on_log(None, state, None, logs={"reward": 0.5, "loss": 0.1})
    last = json.loads(path.read_text().splitlines()[-1])
    assert last["step"] == 3 and last["reward"] == 0.5 and last["seconds"] >= 20.0


def test_missing_tracker_fails_before_training() -> None:
    from synthrl.stages.train import check_trackers

    check_trackers([])
    with pytest.raises(SynthRLError, match=r"no_such_tracker_pkg.*Trainer does not know"):
        check_trackers(["no_such_tracker_pkg"])
    # any tracker the Hugging Face Trainer takes (tests/train/test_passthrough.py)
    resolve_config("cpu", overrides={"train": {"report_to": ["mlflow"]}})


def test_rollouts_cut_at_the_token_limit_follow_the_cut_off_policy() -> None:
    """TRL's completion_ids end at the first EOS; a rollout without one ran into the limit and is
    judged like any cut-off completion (no fallback answer), as probe, score and evaluate do."""
    from synthrl.answers import make_reward_fn
    from synthrl.train.trl_grpo import trl_reward

    reward = trl_reward(make_reward_fn("number", format_weight=0.0), max_tokens=4, eos_ids=[9])
    texts = ["so 3 + 4 = 7", "so 3 + 4 = 7", "so 3 + 4 = 7"]
    ids = [[1, 2, 3, 4], [1, 2, 3, 9], [1, 2]]  # cut off; ended by EOS; short and finished
    assert reward(texts, ["7", "7", "7"], completion_ids=ids) == [0.0, 1.0, 1.0]
