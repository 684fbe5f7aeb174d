"""The run directory: one folder per stage with its data files and a manifest written last.

runs/NAME/run.json              the task file path, preset and resolved configuration
runs/NAME/task.yaml             a copy of the task file as run
runs/NAME/<stage>/*.jsonl       the stage's data (schemas in docs/artifacts.md)
runs/NAME/<stage>/manifest.json fingerprint, counts, drop reasons, usage, time: written last,
                                so its presence means the stage finished
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from synthrl.errors import SynthRLError

MANIFEST = "manifest.json"


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON Lines atomically; return how many."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    count = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count += 1
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)
    return count


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the rows of a JSON Lines file."""
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as err:
                    raise SynthRLError(f"{path}:{number}: not valid JSON ({err.msg})") from None


class RunDir:
    """A run directory and its stage folders."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def stage_dir(self, stage: str) -> Path:
        return self.root / stage

    def manifest(self, stage: str) -> dict[str, Any] | None:
        """The stage's manifest, or None if the stage never finished."""
        path = self.stage_dir(stage) / MANIFEST
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def begin(self, stage: str) -> Path:
        """Mark a stage unfinished (drop its manifest) and return its folder."""
        folder = self.stage_dir(stage)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MANIFEST).unlink(missing_ok=True)
        return folder

    def finish(self, stage: str, manifest: dict[str, Any]) -> None:
        write_json(self.stage_dir(stage) / MANIFEST, manifest)

    def rows(self, stage: str, name: str) -> list[dict[str, Any]]:
        """All rows of a finished stage's data file."""
        if self.manifest(stage) is None:
            raise SynthRLError(f"stage {stage!r} has not finished in {self.root}; run it first.")
        return list(read_jsonl(self.stage_dir(stage) / name))
