"""GRPO rewards built on the answer checker: a TRL reward function and a veRL `compute_score`.

reward = 1.0 if the completion's (leniently extracted) answer is correct, plus `format_weight`
(default 0.1) if it follows the required format strictly (`follows_format`). Only the completion
is judged, never the prompt. With `lenient_credit` c < 1 (ours; `train.lenient_credit`), a
correct answer earns the full 1.0 only in the required format and c when read leniently:
reward = c * correct + (1 - c) * strictly_correct + format_weight * follows_format, every term a
binary verdict of the one checker (never a shaped score).

TRL: `GRPOTrainer(reward_funcs=[make_reward_fn("number")], ...)`; the dataset's `answer` column is
the gold answer, and per-row `kind`, `letters`, `options`, `labels`, `synonyms`, `rel_tol`,
`decimals` columns, when present, override the defaults. veRL: point
`custom_reward_function.path` at a file that does `from synthrl.answers import compute_score`;
`extra_info` may carry `kind` and the same options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from synthrl.answers.equivalence import judge_rows
from synthrl.answers.extract import _extract
from synthrl.answers.options import ALLOWED, AnswerOptionError, Kind, resolve

RewardFn = Callable[..., list[float]]
DEFAULT_FORMAT_WEIGHT = 0.1
_ROW_OPTIONS = ("letters", "options", "labels", "synonyms", "rel_tol", "decimals")
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
    rows: Sequence[tuple[str, str, Kind, Mapping[str, Any]]],
    format_weight: float,
    lenient_credit: float = 1.0,
) -> list[float]:
    """Reward of each (completion, gold, kind, opts) row: correctness (lenient, or with
    `lenient_credit` < 1 partly strict) + format bonus."""
    return scores_and_verdicts(rows, format_weight, lenient_credit)[0]


def scores_and_verdicts(
    rows: Sequence[tuple[str, str, Kind, Mapping[str, Any]]],
    format_weight: float,
    lenient_credit: float = 1.0,
) -> tuple[list[float], list[bool]]:
    """`score_rows`'s rewards and the binary (lenient) verdicts they were built from."""
    correct = judge_rows(rows)
    strict = [False] * len(rows)
    if lenient_credit < 1:
        strict = judge_rows([(c, g, k, {**o, "strict": True}) for c, g, k, o in rows])
    scores = []
    for ok, exact, (completion, _, kind, opts) in zip(correct, strict, rows, strict=True):
        bonus = 0.0
        if format_weight:
            strict_opts = {**resolve(kind, opts), "strict": True}
            bonus = format_weight if _extract(completion, kind, strict_opts) is not None else 0.0
        scores.append(lenient_credit * ok + (1 - lenient_credit) * exact + bonus)
    return scores, correct


def _row_opts(kind: Kind, base: Mapping[str, Any], columns: Mapping[str, Any], i: int) -> dict:
    allowed = ALLOWED.get(kind, frozenset())  # an unknown kind fails in `resolve`, with a message
    opts = {k: v for k, v in base.items() if k in allowed}
    for name in _ROW_OPTIONS:
        values = columns.get(name)
        if name in allowed and values is not None and values[i] is not None:
            opts[name] = values[i]
    return opts


def make_reward_fn(
    kind: Kind | None = None,
    *,
    format_weight: float = DEFAULT_FORMAT_WEIGHT,
    lenient_credit: float = 1.0,
    on_verdicts: Callable[[list[bool], Mapping[str, Any]], None] | None = None,
    **opts: Any,
) -> RewardFn:
    """A TRL-style reward function `f(completions, answer, **columns) -> list[float]`.

    `kind` None reads each row's kind from a `kind` column. Options apply to every row unless a
    column of the same name gives a per-row value. `on_verdicts`, when given, is called after
    each call with the binary (lenient) verdicts the rewards were built from and the columns
    (`synthrl.train.settled` tells prompts without learning signal by them).
    """
    if kind is not None:
        resolve(kind, opts)  # fail before training starts

    def correctness_reward(
        completions: Sequence[Any], answer: Sequence[str], **columns: Any
    ) -> list[float]:
        """`truncated` (one flag per completion: cut off at the token limit), when given,
        applies the answer module's policy for cut-off completions."""
        kinds = columns.get("kind") if kind is None else None
        cuts = columns.get("truncated")
        if kind is None and kinds is None:
            raise AnswerOptionError(
                "the reward needs an answer kind: make_reward_fn(kind=...) "
                "or a 'kind' column in the training data"
            )
        rows = []
        for i, completion in enumerate(completions):
            row_kind = kind if kind is not None else kinds[i]
            row_opts = _row_opts(row_kind, opts, columns, i)
            if cuts is not None and cuts[i]:
                row_opts["truncated"] = True
            rows.append((completion_text(completion), str(answer[i]), row_kind, row_opts))
        scores, correct = scores_and_verdicts(rows, format_weight, lenient_credit)
        if on_verdicts is not None:
            on_verdicts(correct, columns)
        return scores

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
    credit = float(info.get("lenient_credit", 1.0))
    allowed = ALLOWED.get(kind, frozenset())
    opts = {k: v for k, v in info.items() if k in allowed and v is not None}
    return score_rows([(solution_str, str(ground_truth), kind, opts)], weight, credit)[0]
