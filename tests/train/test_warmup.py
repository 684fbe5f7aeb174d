"""The format warm-start's data: verified synthetic samples whose own solution follows the
required format and reaches the verified label, with an echoed instruction dropped."""

from __future__ import annotations

from synthrl.task import load_task
from synthrl.train.warmup import warmup_rows
from tests.conftest import EXAMPLES


def test_only_well_formatted_solutions_with_the_verified_label() -> None:
    task = load_task(EXAMPLES / "gsm8k.yaml")
    samples = [
        {"input": "What is 5 + 3?", "output": "5 + 3 = 8.\n#### 8", "label": "8"},
        {"input": "What is 2 + 2?", "output": "2 + 2 = 4, so \\boxed{4}", "label": "4"},
        {"input": "What is 9 - 2?", "output": "9 - 2 = 7\n#### 6", "label": "7"},
        {"input": "What is 3 * 3?", "output": "#### 9", "reason": "low_agreement"},
        {
            "input": "What is 6 / 2?",
            "output": "Let's think step by step and output the final answer after ####.\n"
            "6 / 2 = 3\n#### 3",
            "label": "3",
        },
    ]
    samples[1]["reference"] = "2 + 2 = 4, so the answer is \\boxed{4}."  # a verifying vote
    samples[2]["reference"] = "9 - 2 = 7\n#### 7"
    rows = warmup_rows(task, samples)
    targets = [row["completion"][0]["content"] for row in rows]
    assert targets == [
        "5 + 3 = 8.\n#### 8",
        "2 + 2 = 4, so the answer is \\boxed{4}.\n#### 4",  # the label restated in the format
        "9 - 2 = 7\n#### 7",  # the generator's output had the wrong answer; the vote's is used
        "6 / 2 = 3\n#### 3",
    ]
    assert rows[0]["prompt"][0]["content"].endswith(task.output_format.strip())


def test_the_base_models_own_solved_answer_comes_first() -> None:
    """Self-distillation: the base model's greedy probe answer that reached the label (not cut
    off) is the target, the label restated in the format; a cut-off or wrong one is not."""
    task = load_task(EXAMPLES / "gsm8k.yaml")
    common = {"output": "2 + 5 = 7\n#### 7", "label": "7"}
    samples = [
        {"input": "What is 2 + 5?", **common, "probe_completion": "2 plus 5 is 7.", "solved": True},
        {
            "input": "What is 2 + 5 now?",
            **common,
            "probe_completion": "2 plus 5 is 7",
            "solved": True,
            "probe_truncated": True,
        },
        {"input": "And 2 + 5?", **common, "probe_completion": "It is 8.", "solved": False},
        {"input": "Or 2 + 5?", **common, "probe_completion": "7.\n#### 7", "solved": True},
    ]
    targets = [row["completion"][0]["content"] for row in warmup_rows(task, samples)]
    assert targets == ["2 plus 5 is 7.\n#### 7", common["output"], common["output"], "7.\n#### 7"]


def test_the_warm_start_runs_its_epochs_whatever_grpos_step_limit() -> None:
    from synthrl.config import resolve_config
    from synthrl.train.warmup import warmup_config

    train = resolve_config("cpu").train
    assert train.max_steps is not None  # GRPO's limit in the preset
    warm = warmup_config(train)
    assert warm.max_steps is None
    assert (warm.sft_epochs, warm.sft_learning_rate) == (train.warmup_epochs, 3e-4)
