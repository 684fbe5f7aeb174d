"""Content checks on generated inputs: each a pure function from an input (and what it needs of
the task) to a `Finding` (the drop reason and the text that shows it) or None.

Failures of a small instructor that these catch (examples from the embedded one in
tests/synthesis/test_checks.py):

- `reasoning_in_input`: the instructor's own `<think>` reasoning written as the input.
- `answer_format_in_input`: the task's answer format in the input (`<answer>`, `\\boxed{}`,
  `####` followed by an answer, "the answer is ...", "Final answer:").
- `states_own_answer`: a label, yes/no or choice input that states its answer ("Overall, this is
  a positive review.", "Answer: B", "Sentiment: negative").
- `repeats_instructions`: an input that is mostly the task's own instructions (most of its word
  4-grams come from the description or the input / output format), that carries the output
  format instruction ("Let's think step by step and output the final answer after ####"), or
  that wraps its parts in the input format's wording ("The lease clause written as 'Clause:
  ...', then on a new line a yes-or-no question about it written as 'Question: ...'" with real
  content in place of the dots).
- `missing_part`: a labelled part the task's `input_format` names (`'Clause: ...'`,
  `Question:`) absent or empty, or, for `choice`, an option letter without its option.
- `near_empty_input`: fewer than `min_words` words once placeholders (`[...]`, `<...>`, `...`)
  and the part labels are removed.
- `drifted_from_parent`: a harder / easier rewrite whose MiniLM cosine similarity to its parent
  is below a threshold (the rewrite left the task's domain); see `drift`.

`check_input` runs the checks in that order and returns the first finding; `InputChecks` holds
what the checks need of a task (`InputChecks.for_task`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from synthrl.synthesis.quality import normalize_words
from synthrl.task import Task

CHECKS = (
    "reasoning_in_input",
    "answer_format_in_input",
    "states_own_answer",
    "repeats_instructions",
    "missing_part",
    "near_empty_input",
    "drifted_from_parent",
)
"""Every check's name, which is also its drop reason (`quality.skip_checks` turns one off)."""

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Finding:
    """Why an input is dropped (`reason`, a name in `CHECKS`) and the text that shows it."""

    reason: str
    evidence: str = ""


def _found(reason: str, match: re.Match[str] | None) -> Finding | None:
    return Finding(reason, match.group(0).strip()[:120]) if match else None


_REASONING = re.compile(r"</?\s*(?:think|thinking|reasoning|scratchpad)\s*>", re.IGNORECASE)
_ANSWER_FORMAT = re.compile(
    r"</?\s*answer\s*>|\\boxed\s*\{|####\s*\S"
    r"|\b(?:the|my)\s+(?:final\s+|correct\s+)?answer\s+(?:is|would be)\b[^.\n]{0,40}"
    r"|\bfinal\s+answer\s*:[^\n]{0,40}",
    re.IGNORECASE,
)


def reasoning_in_input(text: str) -> Finding | None:
    """Reasoning tags (`<think>`, `</think>`, `<reasoning>`) in the input."""
    return _found("reasoning_in_input", _REASONING.search(text))


def answer_format_in_input(text: str) -> Finding | None:
    """The answer format in the input: `<answer>`, `\\boxed{`, `####` followed by an answer,
    "the answer is ...", "Final answer: ..."."""
    return _found("answer_format_in_input", _ANSWER_FORMAT.search(text))


_ANSWER_WORDS = (
    r"(?:answer|label|sentiment|classification|category|verdict|rating|relationship"
    r"|correct\s+(?:option|choice|letter|response))"
)
_SELF = r"(?:this|it|that)(?:\s+review|\s+statement|\s+text)?\s+(?:is|was|seems|reads\s+as)"


def states_own_answer(
    text: str, answers: Sequence[str], letters: bool = False, describes: bool = False
) -> Finding | None:
    """An input that states one of the task's `answers` (labels and their synonyms, yes/no, or
    option `letters`) after an answer word ("Answer: B", "the sentiment is negative",
    "Label - neutral"), or, with `describes` (label tasks), in a last sentence that describes
    the input itself ("Overall, this is a positive review.")."""
    if not answers:
        return None
    names = "|".join(re.escape(a) for a in sorted(answers, key=len, reverse=True))
    # A letter must stand alone ("Answer: A patient ..." is an article, not option A).
    value = rf"(?:{names})(?![\w-])" + (r"(?!\s+[a-z])" if letters else "")
    flags = 0 if letters else re.IGNORECASE
    marker = re.compile(
        rf"(?i:\b{_ANSWER_WORDS})\s*(?:is|:|=|-|would\s+be)\s*(?:an?\s+|the\s+|option\s+)?"
        rf"[\"'(*\[]*{value}",
        flags,
    )
    found = marker.search(text)
    if found or not describes:
        return _found("states_own_answer", found)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s.strip()]
    last = sentences[-1] if sentences else ""
    self_label = re.compile(rf"\b(?:{_SELF}|overall,?)\b[^.!?]{{0,40}}?\b{value}", re.IGNORECASE)
    return _found("states_own_answer", self_label.search(last))


_PLACEHOLDER = re.compile(r"\[[^\]]*\]|<[^>]*>|\.{2,}|…")


def _content_words(text: str, parts: Sequence[str] = ()) -> list[str]:
    """The words of `text` without placeholders and without the labels of `parts`."""
    text = _PLACEHOLDER.sub(" ", text)
    for part in parts:
        text = re.sub(rf"(?<![A-Za-z]){re.escape(part)}[*_\s]*:", " ", text, flags=re.IGNORECASE)
    return normalize_words(text)


def _grams(words: Sequence[str], n: int) -> list[str]:
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def repeats_instructions(
    text: str,
    instructions: Sequence[str],
    output_format: str = "",
    share: float = 0.5,
    input_format: str = "",
    parts: Sequence[str] = (),
) -> Finding | None:
    """An input whose word 4-grams come mostly (at least `share`) from the task's
    `instructions`, that contains the `output_format` instruction (a run of 8 of its words,
    or all of it when shorter, if it has at least 5), or that introduces one of its labelled
    `parts` with the input format's own words ("... a yes-or-no question about it written as
    'Question: ...'": `format_wording`)."""
    wording = format_wording(text, input_format, parts)
    if wording:
        return Finding("repeats_instructions", f"input format: {wording}")
    words = normalize_words(text)
    known = {g for inst in instructions for g in _grams(normalize_words(inst), 4)}
    grams = _grams(words, 4)
    shared = [g for g in grams if g in known]
    if grams and known and len(shared) / len(grams) >= share:
        return Finding(
            "repeats_instructions", f"{len(shared)} of {len(grams)} 4-grams: {shared[0]}"
        )
    out_words = normalize_words(output_format)
    if len(out_words) >= 5:
        size = min(8, len(out_words))
        runs = set(_grams(out_words, size))
        echo = next((g for g in _grams(words, size) if g in runs), None)
        if echo:
            return Finding("repeats_instructions", f"output format: {echo}")
    return None


def format_wording(text: str, input_format: str, parts: Sequence[str], size: int = 3) -> str:
    """The `size` words before a part label (`Clause`) that the input shares with the input
    format ("clause written as" before 'Clause: ...'), or ''. An input wrapped in the format's
    description of itself passes the 4-gram share when its content is long; this catches it.
    Only the words right before a label count (option letters, which are also articles, do not),
    so formats that quote text an input must start with (mednli's 'Please classify ...') are not
    affected."""
    fmt, words = normalize_words(input_format), normalize_words(text)
    labels = {w for part in parts for w in normalize_words(part)[-1:] if len(w) > 1}

    def before(seq: list[str]) -> set[tuple[str, ...]]:
        return {tuple(seq[i - size : i]) for i, w in enumerate(seq) if w in labels and i >= size}

    shared = before(fmt) & before(words)
    return " ".join(sorted(shared)[0]) if shared else ""


_PART = re.compile(
    r"(?P<quote>['\"“‘])?(?<![\w-])(?P<label>[A-Z][A-Za-z]*(?:[ -][A-Za-z]+){0,2})\s*:"
    r"\s*(?P<after>\.{2,}|…|\[|<|['\"”’]|$)?"
)
_NOT_PARTS = {"input", "output", "answer", "note", "example", "examples", "format", "e.g", "i.e"}


def input_parts(input_format: str | None, letters: str = "") -> list[str]:
    """The labelled parts an input format names, in order: `Clause` and `Question` from
    "written as 'Clause: ...', then ... 'Question: ...'". A part is a capitalised label of at
    most three words directly before a colon that is quoted (`'Context:'`), followed by a
    placeholder (`Q:[...]`, `Contract:...`) or written in capitals (`CHOICES:`); option
    `letters` are not parts (`missing_part` checks the options)."""
    found: list[str] = []
    for match in _PART.finditer(input_format or ""):
        label = match["label"]
        marked = (
            match["quote"] or match["after"] is not None or (label.isupper() and len(label) > 1)
        )
        if not marked or label.lower() in _NOT_PARTS or label in letters or label in found:
            continue
        found.append(label)
    return found


def _option_present(text: str, letter: str) -> bool:
    return re.search(rf"(?:^|\s)[(\[]?{letter}\s*[).:\]]\s*\S", text) is not None


def missing_part(text: str, parts: Sequence[str], letters: str = "") -> Finding | None:
    """A labelled part (`parts`) absent from the input or with no words after it (before the
    next part), or, for choice tasks, an option letter (`letters`) without its option."""
    spans = []
    for part in parts:
        found = re.search(rf"(?<![A-Za-z]){re.escape(part)}[*_\s]*:", text, re.IGNORECASE)
        if found is None:
            return Finding("missing_part", f"{part}: absent")
        spans.append((found.start(), found.end(), part))
    spans.sort()
    for i, (_, end, part) in enumerate(spans):
        stop = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        if len(_content_words(text[end:stop])) < 2:
            return Finding("missing_part", f"{part}: empty")
    for letter in letters:
        if not _option_present(text, letter):
            return Finding("missing_part", f"option {letter}: absent")
    return None


def near_empty_input(text: str, parts: Sequence[str] = (), min_words: int = 3) -> Finding | None:
    """Fewer than `min_words` words once placeholders and the part labels are removed."""
    words = _content_words(text, parts)
    if len(words) < min_words:
        return Finding("near_empty_input", f"{len(words)} words: {text.strip()[:80]}")
    return None


@dataclass(frozen=True)
class InputChecks:
    """What the checks need of a task, and which to run."""

    answers: tuple[str, ...] = ()  # answers an input must not state (label / yes_no / choice)
    letters: str = ""  # choice: the option letters every input must carry
    describes: bool = False  # label tasks: a last sentence labelling the input counts too
    parts: tuple[str, ...] = ()  # labelled parts the input format names
    instructions: tuple[str, ...] = ()
    output_format: str = ""
    input_format: str = ""
    min_words: int = 3
    instruction_share: float = 0.5
    skip: frozenset[str] = frozenset()

    @classmethod
    def for_task(
        cls,
        task: Task,
        min_words: int = 3,
        instruction_share: float = 0.5,
        skip: Sequence[str] = (),
    ) -> InputChecks:
        spec = task.answer
        answers: list[str] = []
        letters = ""
        if spec.kind == "label":
            answers = [*(spec.labels or []), *(s for v in spec.synonyms.values() for s in v)]
        elif spec.kind == "yes_no":
            answers = ["yes", "no"]
        elif spec.kind == "choice":
            letters = spec.letters or "ABCD"
            answers = list(letters)
        texts = (task.description, task.input_format or "", task.output_format)
        return cls(
            answers=tuple(answers),
            letters=letters,
            describes=spec.kind == "label",
            parts=tuple(input_parts(task.input_format, letters)),
            instructions=tuple(t for t in texts if t.strip()),
            output_format=task.output_format,
            input_format=task.input_format or "",
            min_words=min_words,
            instruction_share=instruction_share,
            skip=frozenset(skip),
        )


def check_input(text: str, checks: InputChecks) -> Finding | None:
    """The first check `text` fails (in the order of `CHECKS`), or None."""
    runs: list[tuple[str, Callable[[], Finding | None]]] = [
        ("reasoning_in_input", lambda: reasoning_in_input(text)),
        ("answer_format_in_input", lambda: answer_format_in_input(text)),
        (
            "states_own_answer",
            lambda: states_own_answer(text, checks.answers, bool(checks.letters), checks.describes),
        ),
        (
            "repeats_instructions",
            lambda: repeats_instructions(
                text,
                checks.instructions,
                checks.output_format,
                checks.instruction_share,
                checks.input_format,
                checks.parts,
            ),
        ),
        ("missing_part", lambda: missing_part(text, checks.parts, checks.letters)),
        ("near_empty_input", lambda: near_empty_input(text, checks.parts, checks.min_words)),
    ]
    for name, run in runs:
        if name not in checks.skip:
            finding = run()
            if finding is not None:
                return finding
    return None


def drift(
    children: Sequence[str], parents: Sequence[str], embed: Embed, threshold: float
) -> list[tuple[float, Finding | None]]:
    """For each rewrite and its parent: their cosine similarity under `embed` (unit-length
    vectors), and a `drifted_from_parent` finding when it is below `threshold`."""
    if not children:
        return []
    vectors = embed([*children, *parents])
    n = len(children)
    sims = np.sum(vectors[:n] * vectors[n:], axis=1)
    out: list[tuple[float, Finding | None]] = []
    for sim in sims.tolist():
        finding = None
        if sim < threshold:
            finding = Finding("drifted_from_parent", f"similarity {sim:.2f} < {threshold}")
        out.append((round(float(sim), 4), finding))
    return out
