"""A run SIGKILLed inside a call-cache transaction, half-way through a manifest and half-way
through a training checkpoint (an out-of-memory kill is the same signal) resumes with the same
command, pays no call twice, leaves nothing corrupt and ends with the artifacts of an
uninterrupted run: `bench/faults.py --quick` with three kills (the bench plans 30)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_kills_resume_cleanly(tmp_path: Path) -> None:
    command = [sys.executable, "bench/faults.py", "--quick", "--kills", "3"]
    command += ["--kinds", "cache,manifest,checkpoint", "--work", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    line = done.stdout.strip().splitlines()[-1]
    found = re.fullmatch(
        r"BENCH faults kills=(\d+) stages_killed=\d+ resumed=(\d+) repaid=(\d+) corrupt=(\d+) "
        r"mismatched=(\d+) target=30 (PASS|MISS)",
        line,
    )
    assert found, done.stdout
    kills, resumed, repaid, corrupt, mismatched = map(int, found.groups()[:5])
    assert (kills, resumed) == (3, 3), done.stdout
    assert (repaid, corrupt, mismatched) == (0, 0, 0), done.stdout
    assert "kills by kind:  cache 1, manifest 1, checkpoint 1" in done.stdout, done.stdout
