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
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from synthrl.errors import DISK_ERRNOS, SynthRLError, disk_error
from synthrl.train.processes import is_main_process

MANIFEST = "manifest.json"


_TMP = ".{name}.tmp-{pid}"  # a file being written: hidden, so never content (fingerprint.py)


@contextmanager
def _atomic(path: Path) -> Iterator[TextIO]:
    """Open a temporary file beside `path`; on success fsync it and rename it over `path`, on
    any failure remove it. A full or read-only disk becomes a clear SynthRLError."""
    tmp = path.with_name(_TMP.format(name=path.name, pid=os.getpid()))
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno in DISK_ERRNOS:
            raise disk_error(err, path) from None
        raise


def remove_temporaries(folder: Path) -> None:
    """Delete the temporary files that killed writers left in `folder` (call it only where no
    other process writes: the run directory is locked by its run)."""
    for path in folder.glob(_TMP.format(name="*", pid="*")):
        path.unlink(missing_ok=True)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file, fsync, rename)."""
    with _atomic(path) as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, default=str)


def write_text(path: Path, text: str) -> None:
    """Write text atomically (temp file, fsync, rename)."""
    with _atomic(path) as fh:
        fh.write(text)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON Lines atomically; return how many."""
    count = 0
    with _atomic(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            count += 1
    return count


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the rows of a JSON Lines file: one JSON object per line, blank lines skipped. A
    line that is not one (broken JSON, not UTF-8, nested too deeply, another JSON type) raises
    SynthRLError naming the file and the line."""
    for _, row in numbered_jsonl(path):
        yield row


def numbered_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) for each row of a JSON Lines file, checked as `read_jsonl` says."""
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (ValueError, RecursionError) as err:  # JSONDecodeError, UnicodeDecodeError
                reason = getattr(err, "msg", None) or type(err).__name__
                raise SynthRLError(f"{path}:{number}: not valid JSON ({reason})") from None
            if not isinstance(row, dict):
                raise SynthRLError(
                    f"{path}:{number}: expected a JSON object per line, got {type(row).__name__}"
                )
            yield number, row


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
        """Mark a stage unfinished (drop its manifest) and return its folder. Under a
        multi-process launch (accelerate), only rank 0 writes run files."""
        folder = self.stage_dir(stage)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise disk_error(err, folder) from None
        if is_main_process():
            (folder / MANIFEST).unlink(missing_ok=True)
            remove_temporaries(folder)
        return folder

    def finish(self, stage: str, manifest: dict[str, Any]) -> None:
        if is_main_process():
            write_json(self.stage_dir(stage) / MANIFEST, manifest)

    def rows(self, stage: str, name: str) -> list[dict[str, Any]]:
        """All rows of a finished stage's data file."""
        if self.manifest(stage) is None:
            raise SynthRLError(f"stage {stage!r} has not finished in {self.root}; run it first.")
        return list(read_jsonl(self.stage_dir(stage) / name))
