"""Every prompt synthrl sends, in one place: the paper's (Figures 6 and 7, verbatim) and ours.

Ours (listed in `OURS`, with why): the paper shows no text for them.
- `KEYWORDS`: the paper's keyword prompt is its Figure 5, but that figure is an image that our
  copy of the paper (paper/synthetic-data-rl.md) does not reproduce; this prompt is ours.
- `PATTERN`: the pattern summary of section 4.1 (eq. 4, Table 1); the paper gives no prompt.
- `GENERATE_TARGET`: balance by design (`generate.balance`), an optional addition to Figure 6
  that names the answer the new example must have (off under the `paper` preset).
- `GENERATE_NO_PASSAGE`: Figure 6 without its passage, for the no-retrieval baseline
  (`retrieve.enabled: false`, Self-Instruct-style data from the instruction, pattern and demos).
- `SOLVE`: how every model is posed a task input. `solve_messages` is used by the instructor's
  verification, the base model's probe and scoring, GRPO training and evaluation, so a sample
  is always posed the same way.

`templates_digest(names)` hashes the named prompts' templates and the code that fills them in;
each stage's fingerprint carries the digest of the prompts it sends (`Stage.prompts`), so that
editing a prompt reruns exactly the stages that send it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Sequence
from typing import Any

from synthrl.task import Task

SOLVE = "{description}\n\n{input}\n\n{output_format}"


def solve_messages(task: Task, task_input: str) -> list[dict[str, str]]:
    """The chat prompt that poses one task input: description, input, output format."""
    text = SOLVE.format(
        description=task.description.strip(),
        input=task_input.strip(),
        output_format=task.output_format.strip(),
    )
    return [{"role": "user", "content": text}]


def plain_prompt(messages: list[dict[str, str]]) -> str:
    """Chat messages as one raw prompt, for models without a chat template."""
    return "\n\n".join(m["content"] for m in messages) + "\n\n"


def demos_block(task: Task) -> str:
    return "\n\n".join(
        f"Example {i}:\n{json.dumps({'input': d.input, 'output': d.output}, ensure_ascii=False)}"
        for i, d in enumerate(task.demos, 1)
    )


KEYWORDS = (
    "You are an expert in the domain of the task below. List {count} domain-specific keywords "
    "that name the subject matter of its examples: the topics, concepts, entities and real-world "
    "settings that questions of this task are about, not words for the task's procedure (such "
    "as 'solve', 'read' or 'step by step'). They will be used to search an encyclopedia for "
    "passages to write new examples from, so prefer concrete nouns and short noun phrases (one "
    "to three words), each distinct.\n\n"
    "Task description: {description}\n{demos}\n"
    'Output only a JSON list of strings, e.g. ["keyword one", "keyword two"].'
)
KEYWORDS_DEMOS = "\nExamples of the task:\n{shown}\n"
KEYWORDS_DEMO = "Input: {input}\nOutput: {output}"


def keywords_messages(task: Task, count: int) -> list[dict[str, str]]:
    """Ask the instructor for `count` domain keywords (paper 4.1, eq. 2; ours, see `OURS`)."""
    demos = ""
    if task.demos:
        shown = "\n".join(
            KEYWORDS_DEMO.format(input=d.input, output=d.output) for d in task.demos[:3]
        )
        demos = KEYWORDS_DEMOS.format(shown=shown)
    text = KEYWORDS.format(count=count, description=task.description.strip(), demos=demos)
    return [{"role": "user", "content": text}]


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


# Figure 6, verbatim but for the JSON-key sentence's typography; its optional parts follow.
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
    "{target}"
    "Before generating the new example, ensure that you strictly adhere to the rules mentioned in "
    "the [Requirement] and follow the example format. Think twice before generating a new "
    "example. New example (in JSON):"
)
GENERATE_PATTERN = (
    "Here is the sample pattern {pattern}. You should follow the input and output pattern "
    "strictly to generate data!!!\n"
)
GENERATE_DEMOS = (
    "You can refer to demonstration examples. You should generate examples that are in the same "
    "difficulty or are harder: {demos}\n"
)
# Ours (balance by design, `generate.balance`): the answer the new example must have.
GENERATE_TARGET = (
    "The correct answer of the new example must be '{target}'{others}: write an input whose "
    "correct answer is '{target}', without stating that answer in the input, and an output that "
    "arrives at it.\n"
)
# yes/no tasks asked for 'no': the embedded instructor wrote questions that restate the input
# (answer 'yes') for 11 of 15 such requests (lease_yes_no, n = 30, docs/benchmarks.md).
GENERATE_TARGET_NO = (
    "For the answer 'no', the question must ask about something the input contradicts or rules "
    "out, not restate what the input says.\n"
)
GENERATE_TARGET_CHOICE = (
    "The correct answer of the new example must be option {target}: write the input with all "
    "its options, put the correct one at option {target}, do not state the answer in the "
    "input, and write an output that chooses {target}.\n"
)


def generate_messages(
    task: Task, passage: str, pattern: str | None, target: str | None = None
) -> list[dict[str, str]]:
    """The Figure 6 data-generation prompt for one passage; P and the demos in every prompt;
    with a `target` (balance by design) the answer the new example must have."""
    text = GENERATE.format(
        description=task.description.strip(),
        input_format=(task.input_format or "None").strip(),
        output_format=task.output_format.strip(),
        pattern_and_demos=pattern_and_demos(task, pattern),
        passage=passage.strip(),
        target=target_line(task, target),
    )
    return [{"role": "user", "content": text}]


# Ours (the no-retrieval baseline, `retrieve.enabled: false`, Table 3's Self-Instruct-style
# data): Figure 6 with the passage left out, so new examples come from the task instruction, the
# pattern and the demos alone. Its optional parts are Figure 6's.
GENERATE_NO_PASSAGE = (
    GENERATE.replace("[sample pattern] [reference passage], and", "[sample pattern], and")
    .replace(
        "task instruction (task knowledge), provided examples (format), and the passage (domain "
        "knowledge)",
        "task instruction (task knowledge) and provided examples (format)",
    )
    .replace("Here are some related objects or passages that you can refer to: {passage}\n", "")
)
assert "passage" not in GENERATE_NO_PASSAGE, "Figure 6's text changed: update GENERATE_NO_PASSAGE"


def generate_no_passage_messages(
    task: Task, pattern: str | None, target: str | None = None
) -> list[dict[str, str]]:
    """The no-retrieval data-generation prompt (`GENERATE_NO_PASSAGE`): Figure 6's parts (P, the
    demos, a `target`) as `generate_messages` fills them in, without a passage."""
    text = GENERATE_NO_PASSAGE.format(
        description=task.description.strip(),
        input_format=(task.input_format or "None").strip(),
        output_format=task.output_format.strip(),
        pattern_and_demos=pattern_and_demos(task, pattern),
        target=target_line(task, target),
    )
    return [{"role": "user", "content": text}]


def pattern_and_demos(task: Task, pattern: str | None) -> str:
    """Figure 6's pattern and demos sentences (empty without them)."""
    extra = GENERATE_PATTERN.format(pattern=pattern) if pattern else ""
    return extra + (GENERATE_DEMOS.format(demos=demos_block(task)) if task.demos else "")


def target_line(task: Task, target: str | None) -> str:
    """The sentence naming the answer a new example must have (balance by design), or ''."""
    if target is None:
        return ""
    if task.answer.kind == "choice":
        return GENERATE_TARGET_CHOICE.format(target=target)
    # The other answers are named too, for instructors that need it spelled out; the embedded
    # 1.5B instructor wrote positive reviews when asked for 'neutral' either way (0/7 without,
    # 0/6 with: bench/balance.py on review3, docs/benchmarks.md).
    from synthrl.synthesis.balance import answer_values

    others = [f"'{value}'" for value in answer_values(task) if value != target]
    line = GENERATE_TARGET.format(
        target=target, others=f", not {' or '.join(others)}" if others else ""
    )
    return line + (GENERATE_TARGET_NO if task.answer.kind == "yes_no" and target == "no" else "")


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
    """The Figure 7 prompt: rewrite a solved sample harder, or an unsolved one easier. The
    sample is shown with its verified output (`verified_output`), not the generator's."""
    shown = repr({"input": sample["input"], "output": verified_output(sample)})
    template = HARDER if harder else EASIER
    return [{"role": "user", "content": template.format(sample=shown)}]


def verified_output(sample: dict[str, Any]) -> str:
    """An output consistent with the sample's verified label: the instructor's solution that
    won the vote (`reference`), else the label itself; the generator's `output` (possibly wrong,
    relabelled by the vote) only for a sample that was never verified."""
    for key in ("reference", "label"):
        value = sample.get(key)
        if value is not None and str(value).strip():
            return str(value)
    return sample["output"]


# Which module-level names make up each prompt, for `templates_digest`: a stage's fingerprint
# hashes the templates it sends, so editing a prompt reruns exactly the stages that use it.
TEMPLATE_PARTS: dict[str, tuple[str, ...]] = {
    "solve": ("SOLVE", "solve_messages", "plain_prompt"),
    "keywords": ("KEYWORDS", "KEYWORDS_DEMOS", "KEYWORDS_DEMO", "keywords_messages"),
    "pattern": ("PATTERN", "pattern_messages", "demos_block"),
    "generate": (
        "GENERATE",
        "GENERATE_PATTERN",
        "GENERATE_DEMOS",
        "GENERATE_TARGET",
        "GENERATE_TARGET_CHOICE",
        "GENERATE_TARGET_NO",
        "generate_messages",
        "pattern_and_demos",
        "target_line",
        "demos_block",
    ),
    "generate_no_passage": (
        "GENERATE",
        "GENERATE_NO_PASSAGE",
        "GENERATE_PATTERN",
        "GENERATE_DEMOS",
        "GENERATE_TARGET",
        "GENERATE_TARGET_CHOICE",
        "GENERATE_TARGET_NO",
        "generate_no_passage_messages",
        "pattern_and_demos",
        "target_line",
        "demos_block",
    ),
    "rewrite": ("HARDER", "EASIER", "rewrite_messages", "verified_output"),
}


def templates_digest(names: Sequence[str]) -> str:
    """A short hash of the named prompts' templates and the code that fills them in."""
    module = globals()
    sha = hashlib.sha256()
    for name in sorted(names):
        for part in TEMPLATE_PARTS[name]:
            value = module.get(part)
            text = value if isinstance(value, str) or value is None else inspect.getsource(value)
            sha.update(f"{name}\0{part}\0{text}\0".encode())
    return sha.hexdigest()[:16]


# Where each template comes from: the paper's figures, or ours (see the module docstring).
PAPER: dict[str, str] = {
    "GENERATE": "Figure 6",
    "GENERATE_PATTERN": "Figure 6 (given a pattern P)",
    "GENERATE_DEMOS": "Figure 6 (given demos)",
    "HARDER": "Figure 7, GenerateHarderSamples",
    "EASIER": "Figure 7, GenerateEasierSamples",
}
OURS: dict[str, str] = {
    "KEYWORDS": "Figure 5's text is not in our copy of the paper (an image); written by us",
    "KEYWORDS_DEMOS": "part of KEYWORDS",
    "KEYWORDS_DEMO": "part of KEYWORDS",
    "PATTERN": "section 4.1 describes the pattern summary but gives no prompt",
    "SOLVE": "the paper does not show how samples are posed to the models",
    "GENERATE_TARGET": "balance by design (`generate.balance`): Figure 6 names no target answer, "
    "so it is off under the `paper` preset",
    "GENERATE_TARGET_CHOICE": "part of GENERATE_TARGET, for choice tasks (the correct position)",
    "GENERATE_TARGET_NO": "part of GENERATE_TARGET, for yes/no tasks asked for 'no'",
    "GENERATE_NO_PASSAGE": "the no-retrieval baseline (`retrieve.enabled: false`): Figure 6 "
    "without its passage, so samples come from the instruction, pattern and demos alone",
}


def templates() -> dict[str, str]:
    """Every template constant of this module (upper-case string names), by name."""
    return {
        name: value
        for name, value in sorted(globals().items())
        if name.isupper() and isinstance(value, str)
    }
