"""Rounds (`rounds: R` in the settings, `synthrl run ... --rounds R`; ours, not the paper's):
after a round's training, the trained model is the base of the next round, which probes and
scores the synthetic pool again, rewrites what it now solves harder and what it does not solve
easier (verified like every rewrite), selects again and trains on from there.

Round 1 is the pipeline as it always was: its folders at the top of the run directory, its
fingerprints unchanged (with `rounds: 1` nothing here changes anything). Round r >= 2 runs
probe, adapt, score, select and train again in `RUN/round-r/<stage>/`:

- probe: the previous round's model answers the previous round's pool greedily: that round's
  `adapt/samples.jsonl`, the set its selection chose from;
- adapt: solved -> harder, unsolved -> easier, verified; a sample that already has its rewrite
  in that direction is not rewritten again (the pool grows by at most one rewrite per sample
  and direction);
- score and select as in round 1, with the previous round's model;
- train: GRPO from the previous round's model (`train/model`, LoRA merged: a fresh adapter and
  optimizer, and that model is the KL reference), without the format warm-start.

Training steps: the total is one round's, so that R rounds and one round compare at the same
compute. `train.max_steps` is split over the rounds (the remainder to the first ones); without
it, each round trains `train.epochs / R` epochs. `evaluate` (the top-level folder) compares the
last round's model with the base; with `rounds_evaluate`, each earlier round's model is
evaluated too (`RUN/round-r/evaluate`, round 1's in `RUN/round-1/evaluate`).

How: the same `Stage` functions, renamed `round-r/<stage>`, run by `run_pipeline` with the
round's configuration (`models.base` = the previous round's model as `hf:PATH`, the round's
steps, no warm-start) on a `RoundDir`: a view of the run directory in which the names the stage
functions read are the round's folders (`probe`, `adapt`, ...), `verify` and `pool` the
previous round's adapt folder and `base` the previous round's train folder. The round stages
list `pool` and `base` among their inputs, so their fingerprints hash the previous round's data
and weights by content (never the model's path or file times: a copied run directory resumes
as it is): a change upstream reruns what follows, and a run killed in round r resumes at the
stage that had not finished. The previous round's model is sampled on the engine `evaluate`
uses (llama.cpp on a GGUF copy for a GGUF base on a CPU, vLLM for a vllm: base, else
transformers), never through `models.base_endpoint`, which serves the first base only.

    segments = plan(config, run)   # [Segment(stages, config, run view, translate), ...]
    reports = run_rounds(task, config, run, pool, ledger, start, stop, force, on_stage)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from synthrl.artifacts import RunDir
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.llm.usage import Ledger
from synthrl.pipeline import (
    ModelPool,
    Stage,
    StageContext,
    StageOutput,
    StageReport,
    run_pipeline,
    select_stages,
)
from synthrl.stages import STAGES
from synthrl.task import Task

ROUND_STAGES = ("probe", "adapt", "score", "select", "train")
# What a later round's stage reads, by the names its function uses (see RoundDir): `pool` is the
# previous round's adapt folder, `base` its train folder (the model and its content).
ROUND_INPUTS = {
    "probe": ("pool", "base"),
    "adapt": ("probe",),
    "score": ("adapt", "base"),
    "select": ("adapt", "score"),
    "train": ("select", "adapt", "base"),
}


def folder(stage: str, r: int) -> str:
    """Round r's folder of a stage, relative to the run directory (round 1's at the top)."""
    return stage if r == 1 else f"round-{r}/{stage}"


class RoundDir(RunDir):
    """A run directory in which some stage names stand for other folders (`aliases`)."""

    def __init__(self, root: str | Path, aliases: Mapping[str, str]) -> None:
        super().__init__(root)
        self.aliases = dict(aliases)

    def stage_dir(self, stage: str) -> Path:
        return self.root / self.aliases.get(stage, stage)


def round_dir(root: Path, r: int) -> RoundDir:
    """The run directory as round r's stages read it (r >= 2)."""
    aliases = {name: folder(name, r) for name in ROUND_STAGES}
    previous = {"verify": "adapt", "pool": "adapt", "base": "train"}
    aliases |= {name: folder(stage, r - 1) for name, stage in previous.items()}
    return RoundDir(root, aliases)


def round_run(run: RunDir, r: int) -> RunDir:
    """The run as round r left it: `probe`, `adapt`, `score`, `select` and `train` are round
    r's folders (round 1's: the run itself); the other stages are the run's own."""
    if r == 1:
        return run
    return RoundDir(run.root, {name: folder(name, r) for name in ROUND_STAGES})


def final_run(run: RunDir, config: RunConfig) -> RunDir:
    """The run as its last round left it: `train` (the model evaluated, carded and exported),
    `select` ... are the last round's folders."""
    return round_run(run, config.rounds)


def chosen_round(config: RunConfig, r: int | None = None) -> int:
    """Round `r` of a run (None: its last), refused unless the run has it."""
    if r is None:
        return config.rounds
    if not 1 <= r <= config.rounds:
        raise SynthRLError(
            f"round {r}: this run has {config.rounds} round(s) (`rounds: {config.rounds}`); "
            f"give a round from 1 to {config.rounds}, or none for the last."
        )
    return r


def round_label(config: RunConfig, r: int) -> str:
    """How commands name the round they act on, e.g. "round 2 of 2 (round-2/)"."""
    where = "the run's own folders" if r == 1 else f"round-{r}/"
    return f"round {r} of {config.rounds} ({where})"


@dataclass(frozen=True)
class Segment:
    """Stages that run with one configuration on one view of the run directory; `translate`
    maps the spec of the round's base to the one its engine opens (see `sampler`)."""

    stages: list[Stage]
    config: RunConfig
    run: RunDir
    translate: Callable[[str], str] | None = None


def plan(config: RunConfig, run: RunDir) -> list[Segment]:
    """The run's stages in order, in segments (one segment, the pipeline as it is, for one
    round)."""
    if config.rounds == 1:
        return [Segment(list(STAGES), config, run)]
    by_name = {stage.name: stage for stage in STAGES}
    names = list(by_name)
    first, train = names.index(ROUND_STAGES[0]), names.index("train")
    assert names[first : train + 1] == list(ROUND_STAGES), "round stages must be contiguous"
    segments = [
        Segment(list(STAGES[:train]), config, run),
        Segment([by_name["train"]], round_config(config, run.root, 1), run),
    ]
    for r in range(2, config.rounds + 1):
        if config.rounds_evaluate:
            segments.append(_evaluation(by_name["evaluate"], config, run.root, r - 1))
        rc = round_config(config, run.root, r)
        stages = [_round_stage(by_name[name], r, config) for name in ROUND_STAGES]
        segments.append(Segment(stages, rc, round_dir(run.root, r), sampler(config, rc)))
    segments.append(Segment([by_name["evaluate"]], config, final_run(run, config)))
    return segments


def _round_stage(stage: Stage, r: int, config: RunConfig) -> Stage:
    """Round r's copy of a stage. The previous round's model enters its fingerprint by content
    (the input `base`) and by the engine that samples it, never by its path or file times:
    `models` keeps the other roles, `settings` names the model by its folder in the run. Before
    it runs, the stage keeps only its own engines open, as `run_pipeline` does for `models`."""
    model, roles = f"{folder('train', r - 1)}/model", stage.models

    def settings(task: Task, cfg: RunConfig) -> dict[str, Any]:
        out = stage.settings(task, cfg)
        if out.get("base") == cfg.models.base:
            out["base"] = model
        if "base" in roles and not stage.own_engine:
            out["sampled_on"] = sampling_engine(config)
        return out

    def run(ctx: StageContext) -> StageOutput:
        if roles and not stage.own_engine:
            ctx.models.retain(roles)
        return stage.run(ctx)

    return replace(
        stage,
        name=folder(stage.name, r),
        run=run,
        settings=settings,
        inputs=ROUND_INPUTS[stage.name],
        summary=f"round {r}: {stage.summary}",
        models=tuple(role for role in roles if role != "base"),
    )


def _evaluation(evaluate: Stage, config: RunConfig, root: Path, r: int) -> Segment:
    """Round r's model against the base (`rounds_evaluate`), in RUN/round-r/evaluate."""
    stage = replace(evaluate, name=f"round-{r}/evaluate", summary=f"round {r}: {evaluate.summary}")
    return Segment([stage], config, RoundDir(root, {"train": folder("train", r)}))


def round_config(config: RunConfig, root: Path, r: int) -> RunConfig:
    """Round r's settings: its share of the training steps; from round 2 on, the previous
    round's model as the base (hf:PATH, for training and fingerprints; `sampler` says how it is
    sampled), no `models.base_endpoint` and no format warm-start."""
    train = config.train
    if train.max_steps is not None:
        share, extra = divmod(train.max_steps, config.rounds)
        steps: dict[str, object] = {"max_steps": share + (1 if r <= extra else 0)}
    else:
        steps = {"epochs": train.epochs / config.rounds}
    update: dict[str, object] = {}
    if r > 1:
        steps["warmup_epochs"] = 0
        model = (root / folder("train", r - 1) / "model").resolve()
        base = {"base": f"hf:{model}", "base_endpoint": None}
        update["models"] = config.models.model_copy(update=base)
    update["train"] = train.model_copy(update=steps)
    return config.model_copy(update=update)


def sampling_engine(config: RunConfig) -> str:
    """The engine later rounds sample the previous round's model on: `evaluate`'s (llama.cpp
    on a GGUF copy, `evaluate.gguf_dtype`, for a GGUF base on a CPU; vLLM for a vllm: base;
    else transformers), never an endpoint (`models.base_endpoint` serves the first base)."""
    from synthrl.evaluate.engines import engine_for

    served = {"trained_endpoint": None}
    engine = engine_for(
        config.model_copy(update={"evaluate": config.evaluate.model_copy(update=served)})
    )
    return f"llamacpp:{config.evaluate.gguf_dtype}" if engine == "llamacpp" else engine


def sampler(config: RunConfig, round_cfg: RunConfig) -> Callable[[str], str]:
    """How probe and score open a round's base (`round_cfg.models.base`, hf:FOLDER): on the
    `sampling_engine` of the run's `config` (llama.cpp runs a GGUF copy written once per weights
    under $SYNTHRL_HOME/gguf, the one `evaluate` uses)."""
    own = round_cfg.models.base

    def translate(spec: str) -> str:
        if spec != own:
            return spec
        engine, model = sampling_engine(config), Path(spec.removeprefix("hf:"))
        if engine == "vllm":
            return f"vllm:{model}"
        if engine.startswith("llamacpp"):
            from synthrl.evaluate.engines import base_gguf
            from synthrl.export.gguf import cached_gguf

            gguf = cached_gguf(model, base_gguf(config.models.base), config.evaluate.gguf_dtype)
            return f"gguf:{gguf}"
        return spec

    return translate


def stages_of(config: RunConfig) -> list[Stage]:
    """Every stage of the run in order (round stages named `round-r/<stage>`)."""
    return [stage for segment in plan(config, RunDir(".")) for stage in segment.stages]


def stages_for(settings: Mapping[str, object]) -> list[Stage]:
    """The stages of a run from its saved settings (run.json's `config`; for status and the
    report, which do not validate them): one round when `rounds` is missing or not a number."""
    rounds = settings.get("rounds", 1)
    count = rounds if isinstance(rounds, int) and rounds > 1 else 1
    update = {"rounds": count, "rounds_evaluate": settings.get("rounds_evaluate") is True}
    return stages_of(RunConfig().model_copy(update=update))


def run_rounds(
    task: Task,
    config: RunConfig,
    run: RunDir,
    pool: ModelPool,
    ledger: Ledger,
    start: str | None = None,
    stop: str | None = None,
    force: bool = False,
    on_stage: Callable[[StageReport], None] | None = None,
) -> list[StageReport]:
    """Run (or skip) every stage of every round in order, as `run_pipeline` does for one list:
    `start` reruns from a stage on (later rounds included), `stop` stops after one."""
    segments = plan(config, run)
    select_stages([s for seg in segments for s in seg.stages], start, stop)  # names, order
    reports: list[StageReport] = []
    for seg in segments:
        names = [stage.name for stage in seg.stages]
        first = start if start in names else None
        last = stop if stop in names else None
        models = pool if seg.config is config else pool.with_config(seg.config, seg.translate)
        reports += run_pipeline(
            seg.stages, task, seg.config, seg.run, models, ledger, first, last, force, on_stage
        )
        if last is not None:
            break
        force = force or first is not None
    return reports
