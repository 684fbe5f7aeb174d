"""The pipeline runner: a plain list of stages, each a function from artifacts to an artifact.

A stage is skipped when its fingerprint (its code version, the settings that shape it, and the
content of the artifacts it reads) matches the manifest on disk. Settings name what else the
output depends on: model weights, library and evaluation files, prompt templates (see
`synthrl.fingerprint`). `--force` reruns everything selected, `--from`
reruns from a stage on, `--to` stops after one. Model calls go through the persistent cache, so a
stage that crashed half-way pays only for what it had not finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthrl.artifacts import RunDir, remove_temporaries, write_json, write_text
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.fingerprint import digest, folder_digest, model_identity
from synthrl.llm.base import Request, Result
from synthrl.llm.cache import CallCache
from synthrl.llm.client import LLM
from synthrl.llm.usage import Ledger
from synthrl.prompts import templates_digest
from synthrl.task import Task
from synthrl.train.processes import is_main_process


@dataclass
class StageOutput:
    """What a stage reports: counts of what it wrote, and why it dropped what it dropped."""

    counts: dict[str, int]
    drops: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class StageContext:
    """What a stage function gets: the task, the config, its folder and access to models."""

    task: Task
    config: RunConfig
    run: RunDir
    out_dir: Path
    stage: str
    models: ModelPool
    fingerprint: str = ""
    used: set[str] = field(default_factory=set)  # the roles this stage generated with

    def generate(self, role: str, requests: Sequence[Request], desc: str = "") -> list[Result]:
        """Generate with the `instructor` or `base` model; cached and accounted to this stage."""
        self.used.add(role)
        return self.models.get(role).generate(requests, stage=self.stage, desc=desc)


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[StageContext], StageOutput]
    settings: Callable[[Task, RunConfig], dict[str, Any]]
    inputs: tuple[str, ...] = ()
    version: int = 1
    summary: str = ""
    models: tuple[str, ...] = ()  # the model roles it runs: their weights are in its fingerprint
    prompts: tuple[str, ...] = ()  # the prompt templates it sends (names in synthrl.prompts)
    own_engine: bool = False  # loads its models itself (train, evaluate), not from the pool


class ModelPool:
    """Opens the instructor and base models on first use and keeps them for later stages."""

    def __init__(
        self,
        config: RunConfig,
        open_llm: Callable[[str], LLM],
        cache: CallCache | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.config = config
        self._open = open_llm
        self._open_by_spec: dict[str, LLM] = {}
        self.cache = cache  # for stages that open further models (evaluation)
        self.ledger = ledger if ledger is not None else Ledger()

    def spec(self, role: str) -> str:
        return inference_spec(self.config, role)

    def get(self, role: str) -> LLM:
        spec = self.spec(role)
        if spec not in self._open_by_spec:  # one engine when both roles name the same model
            self._open_by_spec[spec] = self._open(spec)
        return self._open_by_spec[spec]

    def samplers(self, roles: Sequence[str]) -> dict[str, dict[str, object]]:
        """The sampler (backend, top-k, top-p, min-p, repetition penalty) of each role's open
        engine, for the manifest; temperatures are in the stage's own settings."""
        out = {}
        for role in roles:
            llm = self._open_by_spec.get(self.spec(role))
            if llm is not None:
                settings = dict(llm.sampler_settings())
                settings.pop("temperature", None)
                out[role] = settings
        return out

    def retain(self, roles: Sequence[str]) -> None:
        """Close every open engine that none of `roles` uses, so that one engine at a time
        holds the accelerator (and its memory is released) before another loads."""
        keep = {self.spec(role) for role in roles}
        for spec in [s for s in self._open_by_spec if s not in keep]:
            self._open_by_spec.pop(spec).close()

    def close(self) -> None:
        self.retain(())

    def with_config(
        self, config: RunConfig, translate: Callable[[str], str] | None = None
    ) -> ModelPool:
        """This pool answering each role by `config` (a later round's base is the previous
        round's model: synthrl.rounds), sharing the open engines, so that one engine at a time
        holds the accelerator across both. `translate` maps a spec to the one opened."""
        opener = self._open if translate is None else (lambda spec: self._open(translate(spec)))
        view = ModelPool(config, opener, self.cache, self.ledger)
        view._open_by_spec = self._open_by_spec
        return view


def inference_spec(config: RunConfig, role: str) -> str:
    """The model spec that answers `role`'s requests in the pool: `models.base_endpoint` (an
    OpenAI-compatible server with the base weights) for the base when set, else the role's spec.
    Training and evaluation load `models.base` themselves."""
    if role not in ("instructor", "base"):
        raise ValueError(f"unknown model role {role!r}")
    if role == "base" and config.models.base_endpoint:
        return config.models.base_endpoint
    return str(getattr(config.models, role))


def input_digests(stage: Stage, run: RunDir) -> dict[str, str | None]:
    """The content hash of each artifact the stage reads (None for an unfinished stage)."""
    return {
        name: folder_digest(run.stage_dir(name)) if run.manifest(name) else None
        for name in stage.inputs
    }


def fingerprint(stage: Stage, task: Task, config: RunConfig, run: RunDir) -> str:
    """Hash of the stage's code version, its settings and the content of its inputs."""
    payload = {
        "stage": stage.name,
        "version": stage.version,
        "settings": stage.settings(task, config),
        "inputs": input_digests(stage, run),
        "models": {role: model_identity(getattr(config.models, role)) for role in stage.models},
        "prompts": templates_digest(stage.prompts) if stage.prompts else None,
    }
    served = {} if stage.own_engine else {r: inference_spec(config, r) for r in stage.models}
    endpoints = {r: spec for r, spec in served.items() if spec != getattr(config.models, r)}
    if endpoints:  # only then: the fingerprints of runs without an endpoint stay as they were
        payload["endpoints"] = endpoints
    return digest(payload)


@dataclass
class StageReport:
    stage: str
    status: str  # "ran" or "skipped"
    manifest: dict[str, Any]


def select_stages(stages: Sequence[Stage], start: str | None, stop: str | None) -> list[Stage]:
    """Stages up to `stop` (inclusive); validates names against the list."""
    names = [s.name for s in stages]
    for name in (start, stop):
        if name is not None and name not in names:
            raise SynthRLError(f"unknown stage {name!r}; stages are: {', '.join(names)}")
    if start and stop and names.index(start) > names.index(stop):
        raise SynthRLError(f"--from {start} comes after --to {stop}")
    end = names.index(stop) + 1 if stop else len(stages)
    return list(stages[:end])


def run_pipeline(
    stages: Sequence[Stage],
    task: Task,
    config: RunConfig,
    run: RunDir,
    models: ModelPool,
    ledger: Ledger,
    start: str | None = None,
    stop: str | None = None,
    force: bool = False,
    on_stage: Callable[[StageReport], None] | None = None,
) -> list[StageReport]:
    """Run (or skip) each selected stage in order; return what happened to each."""
    selected = select_stages(stages, start, stop)
    rerun_from = [s.name for s in stages].index(start) if start else None
    reports: list[StageReport] = []
    for index, stage in enumerate(selected):
        print_fp = fingerprint(stage, task, config, run)
        existing = run.manifest(stage.name)
        forced = force or (rerun_from is not None and index >= rerun_from)
        if existing and existing.get("fingerprint") == print_fp and not forced:
            report = StageReport(stage.name, "skipped", existing)
        else:
            report = StageReport(
                stage.name, "ran", _run_stage(stage, task, config, run, models, ledger, print_fp)
            )
        reports.append(report)
        if on_stage:
            on_stage(report)
    return reports


def _run_stage(
    stage: Stage,
    task: Task,
    config: RunConfig,
    run: RunDir,
    models: ModelPool,
    ledger: Ledger,
    print_fp: str,
) -> dict[str, Any]:
    for name in stage.inputs:
        if run.manifest(name) is None:
            raise SynthRLError(f"stage {stage.name!r} needs {name!r}, which has not finished")
    if stage.own_engine:
        models.close()
    elif stage.models:
        models.retain(stage.models)
    out_dir = run.begin(stage.name)
    started = time.time()
    ctx = StageContext(task, config, run, out_dir, stage.name, models, print_fp)
    output = stage.run(ctx)
    usage = [row for row in ledger.to_json() if row["stage"] == stage.name]
    manifest = {
        "stage": stage.name,
        "fingerprint": print_fp,
        "version": stage.version,
        "inputs": input_digests(stage, run),
        "settings": stage.settings(task, config),
        "counts": output.counts,
        "drops": output.drops,
        "notes": output.notes,
        # the engines this stage generated with (not those a previous stage left open)
        "samplers": models.samplers(sorted(ctx.used)) if not stage.own_engine else {},
        "usage": usage,
        "files": sorted(p.name for p in out_dir.iterdir() if p.is_file() and p.name[0] != "."),
        "content": folder_digest(out_dir),
        "started": started,
        "wall_s": round(time.time() - started, 3),
    }
    run.finish(stage.name, manifest)
    return manifest


def write_run_info(run: RunDir, task_path: Path, task: Task, config: RunConfig) -> None:
    """run.json and a copy of the task file, so a run directory explains itself (rank 0 only
    under a multi-process launch)."""
    if not is_main_process():
        return
    run.root.mkdir(parents=True, exist_ok=True)
    remove_temporaries(run.root)
    write_text(run.root / "task.yaml", task_path.read_text(encoding="utf-8"))
    info = {
        "task_file": str(task_path.resolve()),
        "task": task.name,
        "preset": config.preset,
        "config": config.model_dump(),
    }
    write_json(run.root / "run.json", info)
