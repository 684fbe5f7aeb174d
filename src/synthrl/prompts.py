"""The paper's prompts (Figures 5-7, Table 1) and the one prompt every model solves tasks with.

`solve_messages` is used by the instructor's verification, the base model's probe and scoring,
GRPO training and evaluation, so a sample is always posed the same way.
"""

from __future__ import annotations

import json
from typing import Any

from synthrl.task import Task


def solve_messages(task: Task, task_input: str) -> list[dict[str, str]]:
    """The chat prompt that poses one task input: description, input, output format."""
    parts = [task.description.strip(), task_input.strip(), task.output_format.strip()]
    return [{"role": "user", "content": "\n\n".join(parts)}]


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """Chat messages as one raw prompt, for models without a chat template."""
    return "\n\n".join(m["content"] for m in messages) + "\n\n"


def demos_block(task: Task) -> str:
    return "\n\n".join(
        f"Example {i}:\n{json.dumps({'input': d.input, 'output': d.output}, ensure_ascii=False)}"
        for i, d in enumerate(task.demos, 1)
    )


PATTERN = (
    "Here are some examples of a task.\n\nTask description: {description}\n\n{demos}\n\n"
    "Summarise the sample pattern of this task in a general form, in one paragraph: what the "
    "input consists of, what kind of problems it poses, the knowledge and skills needed, and how "
    "the output is laid out and where its final answer goes. Describe the pattern so that new, "
    "diverse examples can be written from it; do not copy the examples' specific content."
)


def pattern_messages(task: Task) -> list[dict[str, str]]:
    """Ask the instructor for the generalised sample pattern P (section 4.1, eq. 4, Table 1)."""
    text = PATTERN.format(description=task.description.strip(), demos=demos_block(task))
    return [{"role": "user", "content": text}]


# Figure 6, verbatim but for the JSON-key sentence's typography and the optional parts.
GENERATE = (
    "As a Dataset Generator, your task is to generate one new example ('input' and 'output') "
    "based on the [task instruction], [sample pattern] [reference passage], and [few-shot "
    "examples]. Please provide a JSON dictionary response that includes the new 'input' and its "
    "corresponding 'output'. Use the 'input' and 'output' keys in the dictionary.\n"
    "Try you best to ensure that the input and output you generate are distinct from the provided "
    "examples while maintaining a diverse, detailed, precise, comprehensive, and high-quality "
    "response.\n"
    "You must consider the task instruction (task knowledge), provided examples (format), and the "
    "passage (domain knowledge) to generate your training data.\n"
    "Here is the task instruction:{description}\n"
    "Here is the input instruction:{input_format}. You should follow the input format in the "
    "instruction strictly to generate data!!!\n"
    "Here is the output instruction:{output_format}. You should follow the output format in the "
    "instruction strictly to generate data!!!\n"
    "{pattern_and_demos}"
    "Here are some related objects or passages that you can refer to: {passage}\n"
    "Before generating the new example, ensure that you strictly adhere to the rules mentioned in "
    "the [Requirement] and follow the example format. Think twice before generating a new "
    "example. New example (in JSON):"
)


def generate_messages(task: Task, passage: str, pattern: str | None) -> list[dict[str, str]]:
    """The Figure 6 data-generation prompt for one passage; P and the demos in every prompt."""
    extra = ""
    if pattern:
        extra += (
            f"Here is the sample pattern {pattern}. You should follow the input and output "
            "pattern strictly to generate data!!!\n"
        )
    if task.demos:
        extra += (
            "You can refer to demonstration examples. You should generate examples that are in "
            f"the same difficulty or are harder: {demos_block(task)}\n"
        )
    text = GENERATE.format(
        description=task.description.strip(),
        input_format=(task.input_format or "None").strip(),
        output_format=task.output_format.strip(),
        pattern_and_demos=extra,
        passage=passage.strip(),
    )
    return [{"role": "user", "content": text}]


# Figure 7, verbatim.
HARDER = (
    "The current sample is overly simplistic and can be solved effortlessly by the model. Please "
    "generate an alternative and task-similar sample that presents a significantly more "
    "challenging and intricate problem—one that requires multi-step reasoning, creative "
    "problem-solving, and deeper analytical thought. Only output the revised sample in the python "
    "dictionary form. Current sample:{sample}"
)
EASIER = (
    "The given sample is too challenging for the model to solve. Please generate a task-similar "
    "alternative that is easier or represents a sub-problem of the original sample. Output only "
    "the revised sample in Python dictionary format. Current sample:{sample}"
)


def rewrite_messages(sample: dict[str, Any], harder: bool) -> list[dict[str, str]]:
    """The Figure 7 prompt: rewrite a solved sample harder, or an unsolved one easier."""
    shown = repr({"input": sample["input"], "output": sample["output"]})
    template = HARDER if harder else EASIER
    return [{"role": "user", "content": template.format(sample=shown)}]
