"""Reading a run directory for the report, tolerating anything missing or half-written.

`RunData` loads each artifact on first use. A missing or unreadable artifact raises
`Unavailable` with a short reason, which the report shows in place of its section.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from synthrl.artifacts import MANIFEST, read_jsonl


class Unavailable(Exception):
    """A report section cannot be shown; the message says why."""


class RunData:
    """The artifacts of one run directory, each read on first use."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._memo: dict[str, Any] = {}

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()` once per key; an Unavailable it raises is raised again on every call."""
        if key not in self._memo:
            try:
                self._memo[key] = compute()
            except Unavailable as why:
                self._memo[key] = why
        value = self._memo[key]
        if isinstance(value, Unavailable):
            raise Unavailable(str(value))
        return value

    def json(self, rel: str) -> Any:
        """A JSON artifact, or Unavailable naming the file and what is wrong."""
        path = self.root / rel
        if not path.is_file():
            raise Unavailable(f"{rel} not found")
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise Unavailable(f"{rel} unreadable ({err})") from None

    def rows(self, stage: str, name: str, unfinished_ok: bool = False) -> list[dict[str, Any]]:
        """A finished stage's JSON Lines file (Unavailable if the stage never finished, unless
        `unfinished_ok`: then whatever has been written so far)."""
        if not unfinished_ok:
            self.require(stage)
        path = self.root / stage / name
        if not path.is_file():
            raise Unavailable(f"{stage}/{name} not found")
        try:
            return list(read_jsonl(path))
        except Exception as err:  # any bad row makes the file unusable
            raise Unavailable(f"{stage}/{name} unreadable ({err})") from None

    def require(self, stage: str) -> dict[str, Any]:
        """The stage's manifest, or Unavailable saying it has not run or not finished."""
        manifest = self.manifest(stage)
        if manifest is None:
            state = "has not finished" if (self.root / stage).is_dir() else "has not run"
            raise Unavailable(f"stage {stage} {state}")
        return manifest

    def manifest(self, stage: str) -> dict[str, Any] | None:
        path = self.root / stage / MANIFEST
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def stage_folders(self, known: list[str]) -> list[str]:
        """The known stages in order, then any other folder holding a manifest."""
        extra = sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and p.name not in known and (p / MANIFEST).is_file()
        )
        return [*known, *extra]

    @cached_property
    def info(self) -> dict[str, Any]:
        """run.json: task file, task name, preset, resolved configuration."""
        return self.json("run.json")

    def config(self, *keys: str) -> Any:
        """A value of the run's configuration (`config("models", "base")`), None if absent."""
        try:
            value: Any = self.info.get("config", {})
        except Unavailable:
            return None
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    @property
    def rounds(self) -> int:
        """How many rounds the run has (`rounds` in its settings; 1 when absent or odd)."""
        count = self.config("rounds")
        return count if isinstance(count, int) and count > 1 else 1

    @cached_property
    def results(self) -> dict[str, Any]:
        """evaluate/results.json with both models and their comparison."""
        self.require("evaluate")
        results = self.json("evaluate/results.json")
        if "skipped" in results:
            raise Unavailable(f"evaluation skipped: {results['skipped']}")
        if not all(k in results for k in ("base", "trained", "comparison")):
            raise Unavailable("evaluate/results.json lacks base, trained or comparison")
        return results

    @cached_property
    def synthetic(self) -> list[dict[str, Any]]:
        """The synthetic set after adaptation (adapt/samples.jsonl)."""
        rows = self.rows("adapt", "samples.jsonl")
        if not rows:
            raise Unavailable("adapt/samples.jsonl is empty")
        return rows

    def by_id(self, stage: str, name: str, key: str = "id") -> dict[str, dict[str, Any]]:
        """A stage's rows keyed by `key`; empty when the stage has not finished."""
        try:
            return {str(r[key]): r for r in self.rows(stage, name) if key in r}
        except Unavailable:
            return {}

    def task(self) -> Any:
        """The task as run: from its original file when unchanged (so relative paths resolve
        against it), else from the run's copy task.yaml."""
        from synthrl.task import load_task

        copy = self.root / "task.yaml"
        if not copy.is_file():
            raise Unavailable("task.yaml not found in the run directory")
        try:
            original = Path(self.info.get("task_file") or copy)
        except Unavailable:
            original = copy
        try:
            text = copy.read_text(encoding="utf-8")
            same = original.is_file() and original.read_text(encoding="utf-8") == text
            return load_task(original if same else copy)
        except Exception as err:  # a task file that no longer validates, or unreadable
            raise Unavailable(f"the task file does not load ({err})") from None
