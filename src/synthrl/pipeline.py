"""The pipeline runner: a plain list of stages, each a function from artifacts to an artifact.

A stage is skipped when its fingerprint (its code version, the settings that shape it and its
inputs' fingerprints) matches the manifest on disk. `--force` reruns everything selected, `--from`
reruns from a stage on, `--to` stops after one. Model calls go through the persistent cache, so a
stage that crashed half-way pays only for what it had not finished.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthrl.artifacts import RunDir, write_json
from synthrl.config import RunConfig
from synthrl.errors import SynthRLError
from synthrl.llm.base import Request, Result
from synthrl.llm.cache import CallCache
from synthrl.llm.client import LLM
from synthrl.llm.usage import Ledger
from synthrl.task import Task


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

    def generate(self, role: str, requests: Sequence[Request], desc: str = "") -> list[Result]:
        """Generate with the `instructor` or `base` model; cached and accounted to this stage."""
        return self.models.get(role).generate(requests, stage=self.stage, desc=desc)


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[StageContext], StageOutput]
    settings: Callable[[Task, RunConfig], dict[str, Any]]
    inputs: tuple[str, ...] = ()
    version: int = 1
    summary: str = ""


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
        if role not in ("instructor", "base"):
            raise ValueError(f"unknown model role {role!r}")
        return str(getattr(self.config.models, role))

    def get(self, role: str) -> LLM:
        spec = self.spec(role)
        if spec not in self._open_by_spec:  # one engine when both roles name the same model
            self._open_by_spec[spec] = self._open(spec)
        return self._open_by_spec[spec]

    def close(self) -> None:
        for llm in self._open_by_spec.values():
            llm.close()
        self._open_by_spec.clear()


def fingerprint(stage: Stage, task: Task, config: RunConfig, run: RunDir) -> str:
    """Hash of the stage's code version, its settings and its inputs' fingerprints."""
    inputs = {}
    for name in stage.inputs:
        manifest = run.manifest(name)
        inputs[name] = manifest["fingerprint"] if manifest else None
    payload = {
        "stage": stage.name,
        "version": stage.version,
        "settings": stage.settings(task, config),
        "inputs": inputs,
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


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
    out_dir = run.begin(stage.name)
    started = time.time()
    ctx = StageContext(task, config, run, out_dir, stage.name, models, print_fp)
    output = stage.run(ctx)
    usage = [row for row in ledger.to_json() if row["stage"] == stage.name]
    manifest = {
        "stage": stage.name,
        "fingerprint": print_fp,
        "version": stage.version,
        "inputs": {name: (run.manifest(name) or {}).get("fingerprint") for name in stage.inputs},
        "settings": stage.settings(task, config),
        "counts": output.counts,
        "drops": output.drops,
        "notes": output.notes,
        "usage": usage,
        "files": sorted(p.name for p in out_dir.iterdir() if p.is_file()),
        "started": started,
        "wall_s": round(time.time() - started, 3),
    }
    run.finish(stage.name, manifest)
    return manifest


def write_run_info(run: RunDir, task_path: Path, task: Task, config: RunConfig) -> None:
    """run.json and a copy of the task file, so a run directory explains itself."""
    run.root.mkdir(parents=True, exist_ok=True)
    (run.root / "task.yaml").write_text(task_path.read_text(encoding="utf-8"), encoding="utf-8")
    info = {
        "task_file": str(task_path.resolve()),
        "task": task.name,
        "preset": config.preset,
        "config": config.model_dump(),
    }
    write_json(run.root / "run.json", info)
