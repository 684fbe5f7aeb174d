"""Option positions for `choice` tasks: votes on rotated options (`verify.permute_options`) and
the correct option moved to its target letter (`place_answer`, under balance by design). Both
ours, not the paper's.

A small voter may favour one position whatever the options say. With `permute_options` on, vote
j sees the sample's options rotated by j positions (option text i moves to letter i - j), and
its answer letter is mapped back to the option it names in the sample as written, so a voter's
bias towards one position spreads over the options instead of electing one. On the embedded
instructor the larger bias was the generator's: asked for the correct option at B, C or D, it
wrote the true statement first, and the votes rightly said A (15 of 25 labels A:
bench/balance.py, docs/benchmarks.md); `place_answer` then swaps the correct option's text with
the target letter's, so the correct letters follow the targets. Options are read as lettered
lines ('A. ...') or as one line holding them all ('A. x B. y C. z D. w'); an input whose options
cannot all be found is left as written.

    rotated_input("Q?\\nA. x\\nB. y", "AB", 1)  ->  "Q?\\nA. y\\nB. x"
    original_letter("A", "AB", 1)               ->  "B"
"""

from __future__ import annotations

import re
from typing import Any

from synthrl.answers.options import option_matches

_INLINE = re.compile(r"(?:^|(?<=\s))\(?([A-Z])[.)]\s+")


def option_spans(text: str, letters: str) -> list[tuple[int, int]] | None:
    """Where each option's text lies in `text`, in letter order: lettered lines ('A. ...'), or
    one line holding them all ('A. x B. y C. z D. w'); None unless every letter is found once,
    in order."""
    lines = option_matches(text, letters)
    if [m.group(1) for m in lines] == list(letters):
        return [m.span(2) for m in lines]
    markers, want = [], 0
    for match in _INLINE.finditer(text):
        if want < len(letters) and match.group(1) == letters[0]:  # the last 'A.' before 'B.'
            markers, want = [match], 1
        elif want < len(letters) and match.group(1) == letters[want]:
            markers.append(match)
            want += 1
    if want < len(letters):
        return None
    ends = [m.start() for m in markers[1:]]
    line_end = text.find("\n", markers[-1].end())
    ends.append(len(text) if line_end < 0 else line_end)
    pairs = zip(markers, ends, strict=True)
    spans = [(m.end(), _trimmed_end(text, m.end(), end)) for m, end in pairs]
    return spans if all(a < b for a, b in spans) else None


def _trimmed_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def moved(text: str, letters: str, order: list[int]) -> str:
    """`text` with option i showing the option text at `order[i]` (spans from `option_spans`)."""
    spans = option_spans(text, letters)
    if spans is None:
        return text
    options = [text[a:b] for a, b in spans]
    out, last = [], 0
    for i, (a, b) in enumerate(spans):
        out += [text[last:a], options[order[i]]]
        last = b
    return "".join([*out, text[last:]])


def rotated_input(text: str, letters: str, shift: int) -> str:
    """`text` with its option texts rotated by `shift` (letter i shows option i + shift), or
    `text` unchanged when its options cannot all be found (`option_spans`)."""
    if shift % len(letters) == 0:
        return text
    return moved(text, letters, [(i + shift) % len(letters) for i in range(len(letters))])


def original_letter(answer: str | None, letters: str, shift: int) -> str | None:
    """The letter, in the sample as written, of the option a vote on the rotated input chose."""
    if answer is None or answer not in letters:
        return answer
    return letters[(letters.index(answer) + shift) % len(letters)]


def rotates(text: str, letters: str) -> bool:
    """Whether `rotated_input` can rotate this input's options."""
    return option_spans(text, letters) is not None


def place_answer(sample: dict[str, Any], letters: str) -> dict[str, Any]:
    """A verified choice sample with its correct option moved to its generation `target`
    position (the options' texts swapped; balance by design: the instructor writes the right
    option first whatever letter it is asked for). The content is unchanged, so the verified
    answer is the same option; the label becomes the target letter. The sample as voted on is
    kept under `before_placement`; `reference` and `output` (which name the old letters) are
    cleared. Unchanged when there is no target, the label is already there, or the options
    cannot all be found."""
    label, target = sample.get("label"), sample.get("target")
    if not (isinstance(label, str) and isinstance(target, str)) or label == target:
        return sample
    if len(target) != 1 or len(label) != 1 or target not in letters or label not in letters:
        return sample
    if not rotates(sample["input"], letters):
        return sample
    order = list(range(len(letters)))
    i, j = letters.index(label), letters.index(target)
    order[i], order[j] = j, i
    before = {key: sample.get(key) for key in ("input", "label", "output", "reference")}
    return {
        **sample,
        "input": moved(sample["input"], letters, order),
        "label": target,
        "output": "",
        "reference": "",
        "before_placement": before,
    }
