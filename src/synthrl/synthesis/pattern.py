"""The sample pattern P (paper 4.1, eq. 4) as the `pattern` stage writes it and `generate` reads
it: `pattern/pattern.json` ({pattern, demos, reply}); `pattern` is null when the task has no
demos."""

from __future__ import annotations

import json

from synthrl.artifacts import RunDir

PATTERN_FILE = "pattern.json"


def read_pattern(run: RunDir) -> str | None:
    """The pattern P of a run whose `pattern` stage finished, or None when there is none."""
    path = run.stage_dir("pattern") / PATTERN_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("pattern") or None
