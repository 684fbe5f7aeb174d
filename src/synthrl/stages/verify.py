"""verify: the instructor answers each sample k times; the majority answer (grouped by the answer
checker's equivalence) becomes the label, with its agreement; samples below the minimum agreement
are dropped (the paper's released code had no threshold). For choice tasks under balance by
design (`generate.balance`), a kept sample's correct option is then moved to the position its
generation request named (`synthrl.synthesis.permute.place_answer`: the options' texts swapped,
the label the target letter), since the instructor writes the right option first whatever
letter it is asked for. With `verify.max_label_share` (label, yes_no and choice tasks; 0.5
under `cpu`), the lowest-agreement samples of the most common label (as finally labelled, after
placement) are then dropped until no label holds more than that share of the kept samples
(`synthrl.synthesis.balance.cap_label_share`, reason `label_share`); adapt does not cap.

Writes `verify/samples.jsonl` (+ label, agreement, votes, parsed, k, reference, generator_agrees)
and `verify/dropped.jsonl` (+ reason: low_agreement, tied_vote, no_parseable_vote, label_share).
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from synthrl.artifacts import write_jsonl
from synthrl.config import RunConfig
from synthrl.pipeline import Stage, StageContext, StageOutput
from synthrl.synthesis.balance import balance_on, cap_label_share, label_share_cap
from synthrl.synthesis.permute import place_answer
from synthrl.synthesis.samples import choice_letters
from synthrl.synthesis.votes import verify_samples
from synthrl.task import Task


def run(ctx: StageContext) -> StageOutput:
    samples = ctx.run.rows("generate", "samples.jsonl")
    instructor = partial(ctx.generate, "instructor")
    kept, dropped = verify_samples(
        instructor, ctx.task, ctx.config.verify, ctx.config.llm.seed, samples
    )
    if places_answers(ctx.task, ctx.config):
        kept = [place_answer(s, choice_letters(ctx.task)) for s in kept]
    cap = label_share_cap(ctx.task, ctx.config)
    if cap is not None:
        kept, capped = cap_label_share(kept, cap)
        dropped += capped
    write_jsonl(ctx.out_dir / "samples.jsonl", kept)
    write_jsonl(ctx.out_dir / "dropped.jsonl", dropped)
    relabeled = sum(1 for s in kept if not s["generator_agrees"])
    counts = {"samples": len(kept), "relabeled": relabeled}
    if places_answers(ctx.task, ctx.config):
        counts["placed"] = sum("before_placement" in s for s in kept)
    return StageOutput(counts, dict(Counter(d["reason"] for d in dropped)))


def places_answers(task: Task, config: RunConfig) -> bool:
    """Whether kept choice samples get their correct option moved to their target position."""
    return task.answer.kind == "choice" and balance_on(task, config)


def settings(task: Task, config: RunConfig) -> dict[str, Any]:
    out = {
        "instructor": config.models.instructor,
        # the cap enters only where it applies: other runs keep their fingerprints
        "verify": config.verify.model_dump(exclude={"max_label_share"}),
        "seed": config.llm.seed,
        "task": task.fingerprint(),
    }
    if places_answers(task, config):  # only choice tasks: other runs keep their fingerprints
        out["place_answers"] = True
    cap = label_share_cap(task, config)
    if cap is not None:  # only label, yes_no and choice tasks, as place_answers
        out["max_label_share"] = cap
    return out


STAGE = Stage(
    "verify",
    run,
    settings,
    inputs=("generate",),
    version=3,  # 3: cut-off votes judged by the answer module's policy; 2: as unparsed
    summary="majority vote of k instructor answers",
    models=("instructor",),
    prompts=("solve",),
)
