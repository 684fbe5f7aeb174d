"""GRPO rewards built on the answer checker: a TRL reward function and a veRL `compute_score`.

reward = 1.0 if the completion's (leniently extracted) answer is correct, plus `format_weight`
(default 0.1) if it follows the required format strictly (`follows_format`). Only the completion
is judged, never the prompt.

TRL: `GRPOTrainer(reward_funcs=[make_reward_fn("number")], ...)`; the dataset's `answer` column is
the gold answer, and per-row `kind`, `letters`, `options`, `labels`, `synonyms` columns, when
present, override the defaults. veRL: point `custom_reward_function.path` at a file that does
`from synthrl.answers import compute_score`; `extra_info` may carry `kind` and the same options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from synthrl.answers.equivalence import judge_rows
from synthrl.answers.extract import _extract
from synthrl.answers.options import ALLOWED, AnswerOptionError, Kind, resolve

RewardFn = Callable[..., list[float]]
DEFAULT_FORMAT_WEIGHT = 0.1
_ROW_OPTIONS = ("letters", "options", "labels", "synonyms")
_DATA_SOURCE_KINDS = (
    ("gsm8k", "number"),
    ("math", "math"),
    ("logiqa", "choice"),
    ("medqa", "choice"),
    ("gpqa", "choice"),
    ("cfa", "choice"),
    ("cqa", "yes_no"),
)


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string, or a conversation whose last message is ours."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        content = completion.get("content", "")
    elif isinstance(completion, Sequence) and completion:
        return completion_text(completion[-1])
    else:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):  # multimodal parts: [{"type": "text", "text": ...}]
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    return ""


def score_rows(
    rows: Sequence[tuple[str, str, Kind, Mapping[str, Any]]], format_weight: float
) -> list[float]:
    """Reward of each (completion, gold, kind, opts) row: correctness + format bonus."""
    correct = judge_rows(rows)
    scores = []
    for ok, (completion, _, kind, opts) in zip(correct, rows, strict=True):
        bonus = 0.0
        if format_weight:
            strict_opts = {**resolve(kind, opts), "strict": True}
            bonus = format_weight if _extract(completion, kind, strict_opts) is not None else 0.0
        scores.append(float(ok) + bonus)
    return scores


def _row_opts(kind: Kind, base: Mapping[str, Any], columns: Mapping[str, Any], i: int) -> dict:
    allowed = ALLOWED.get(kind, frozenset())  # an unknown kind fails in `resolve`, with a message
    opts = {k: v for k, v in base.items() if k in allowed}
    for name in _ROW_OPTIONS:
        values = columns.get(name)
        if name in allowed and values is not None and values[i] is not None:
            opts[name] = values[i]
    return opts


def make_reward_fn(
    kind: Kind | None = None, *, format_weight: float = DEFAULT_FORMAT_WEIGHT, **opts: Any
) -> RewardFn:
    """A TRL-style reward function `f(completions, answer, **columns) -> list[float]`.

    `kind` None reads each row's kind from a `kind` column. Options apply to every row unless a
    column of the same name gives a per-row value.
    """
    if kind is not None:
        resolve(kind, opts)  # fail before training starts

    def correctness_reward(
        completions: Sequence[Any], answer: Sequence[str], **columns: Any
    ) -> list[float]:
        kinds = columns.get("kind") if kind is None else None
        if kind is None and kinds is None:
            raise AnswerOptionError(
                "the reward needs an answer kind: make_reward_fn(kind=...) "
                "or a 'kind' column in the training data"
            )
        rows = []
        for i, completion in enumerate(completions):
            row_kind = kind if kind is not None else kinds[i]
            row_opts = _row_opts(row_kind, opts, columns, i)
            rows.append((completion_text(completion), str(answer[i]), row_kind, row_opts))
        return score_rows(rows, format_weight)

    correctness_reward.__name__ = f"synthrl_{kind or 'answer'}_reward"
    return correctness_reward


reward_fn: RewardFn = make_reward_fn()
"""The reward with per-row kinds (a `kind` column), format bonus 0.1."""


def kind_for(data_source: str, extra_info: Mapping[str, Any] | None) -> Kind:
    """The answer kind of a veRL row: `extra_info["kind"]`, else guessed from `data_source`."""
    if extra_info and extra_info.get("kind"):
        return extra_info["kind"]
    source = (data_source or "").lower()
    for needle, found in _DATA_SOURCE_KINDS:
        if needle in source:
            return found  # type: ignore[return-value]
    raise AnswerOptionError(
        f"cannot tell the answer kind of data_source {data_source!r}: put 'kind' in extra_info"
    )


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: Mapping[str, Any] | None = None,
    **_: Any,
) -> float:
    """veRL's custom reward signature; `solution_str` must be the response only, not the prompt."""
    kind = kind_for(data_source, extra_info)
    info = dict(extra_info or {})
    weight = float(info.get("format_weight", DEFAULT_FORMAT_WEIGHT))
    allowed = ALLOWED.get(kind, frozenset())
    opts = {k: v for k, v in info.items() if k in allowed and v is not None}
    return score_rows([(solution_str, str(ground_truth), kind, opts)], weight)[0]
