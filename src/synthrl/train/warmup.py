"""Format warm-start before GRPO (ours; off in the `paper` preset): a short SFT pass on the
verified synthetic samples' solutions, each ending in the task's required output format, so
that GRPO's rollouts start in the format the reward checks.

The target of a sample is, in order of preference:
1. the base model's own greedy solution from `probe` when it reached the verified label and was
   not cut off (self-distillation: the model keeps its own way of reasoning and only learns to
   end in the required format);
2. the generator's own solution when it already follows the required format and reaches the
   verified label;
3. the instructor's verifying solution (`reference`, a vote whose answer is the label).
A solution that does not end in the required format gets the verified label restated in it
(`#### 18`, `\\boxed{18}`, `<answer>B</answer>`) as its last line.

Why: on a CPU, GRPO affords tens of steps, and a small base model that never writes the
required marker (Qwen2.5-0.5B writes GSM8K's `####` in 0 of 32 greedy answers) gets no reward
for the format in most groups: nothing to learn from. A few SFT steps on the instructor's own
verified, well-formatted solutions fix the format; GRPO then works on correctness. The
warm-start data are synthetic like everything else (never an evaluation item), and the report's
training section says how many samples it used.

    rows = warmup_rows(task, samples)   # SFT rows, possibly empty
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from synthrl.answers import Kind, follows_format, format_answer, judge
from synthrl.config import TrainConfig
from synthrl.task import Task
from synthrl.train.data import sft_row


def warmup_config(cfg: TrainConfig) -> TrainConfig:
    """The SFT settings of the warm-start: `train.warmup_epochs` whole epochs at
    `train.warmup_learning_rate`; GRPO's `train.max_steps` does not cut it short."""
    return cfg.model_copy(
        update={
            "sft_epochs": cfg.warmup_epochs,
            "sft_learning_rate": cfg.warmup_learning_rate,
            "sft_weight_decay": 0.0,
            "max_steps": None,
        }
    )


def warmup_rows(task: Task, samples: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """SFT rows for the verified samples that have a target (see the module docstring); an
    echo of the output instruction at the start of a solution, a known artifact of small
    instructors, is dropped from the target."""
    rows = []
    for sample in samples:
        target = warmup_target(task, sample)
        if target is not None:
            rows.append(sft_row(task, sample["input"], target))
    return rows


def warmup_target(task: Task, sample: dict[str, Any]) -> str | None:
    """The solution a verified sample is warm-started on, or None."""
    if "label" not in sample:
        return None
    kind, label = task.answer.kind, str(sample["label"])
    opts = task.checker_options(sample["input"])
    own = str(sample.get("probe_completion", "")).strip()
    if own and sample.get("solved") and not sample.get("probe_truncated"):
        return _in_format(own, label, kind, opts)
    output = _without_echo(str(sample.get("output", "")), task.output_format)
    if output and judge(output, label, kind, strict=True, **opts):
        return output
    reference = _without_echo(str(sample.get("reference", "")), task.output_format)
    if not reference or not judge(reference, label, kind, **opts):
        return None
    return _in_format(reference, label, kind, opts)


def _in_format(solution: str, label: str, kind: Kind, opts: dict[str, Any]) -> str | None:
    """`solution` (which reaches `label`) ending in the required format: as it is when it
    follows the format with the label, None when it follows it with another answer, else with
    the label restated in the format as its last line."""
    if follows_format(solution, kind, **opts):
        return solution if judge(solution, label, kind, strict=True, **opts) else None
    return f"{solution.rstrip()}\n{format_answer(label, kind)}"


def _without_echo(output: str, instruction: str) -> str:
    text = output.strip()
    head = instruction.strip().rstrip(".")
    if head and text.lower().startswith(head.lower()):
        text = text[len(head) :].lstrip(". \n")
    return text
