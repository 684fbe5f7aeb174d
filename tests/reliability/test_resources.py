"""Resources: a full disk or a read-only run directory (or call cache) ends `synthrl run` with a
clear error (exit 1, the file, the fix) and nothing half-written: no temporary file left, every
JSON file whole, every manifest true to its folder, finished stages untouched; once there is
room again, the same command resumes. The disks are small tmpfs mounts where this process may
mount one (root with CAP_SYS_ADMIN); elsewhere a full disk is a per-file size limit
(RLIMIT_FSIZE: EFBIG, which synthrl treats as no space) and a read-only folder is `chmod a-w`
(not for root, who writes anyway: then that case is skipped). An out-of-memory kill is SIGKILL:
test_kills.py and `bench/faults.py` kill training mid-checkpoint with it."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from synthrl.artifacts import MANIFEST
from synthrl.fingerprint import folder_digest
from synthrl.stages import STAGES
from tests.conftest import REPO
from tests.reliability import world


def _mount(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


@contextmanager
def small_disk(path: Path, size_kb: int) -> Iterator[bool]:
    """A tmpfs of `size_kb` at `path` (True), or a plain folder where none can be mounted."""
    mounted = _mount(path, f"size={size_kb}k,mode=0755")
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


def _remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True)


def _limit_file_size(limit: int) -> None:
    """In the child: files may not grow beyond `limit` bytes (EFBIG, no signal)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def run(
    task: Path, out: Path, cache: Path, *extra: str, file_limit: int | None = None
) -> tuple[int, str]:
    """`synthrl run` in the fake world, in a process of its own: (exit code, output)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.world", *world.command(task, out, cache, *extra)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "COLUMNS": "200"},
        preexec_fn=(lambda: _limit_file_size(file_limit)) if file_limit else None,
    )
    return done.returncode, done.stdout + done.stderr


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def half_written(root: Path) -> list[str]:
    """Temporary files, JSON that does not parse, manifests untrue to their folder."""
    problems = [str(p) for p in root.rglob(".*tmp*")]
    for path in root.rglob("*.json*"):
        text = path.read_text(encoding="utf-8")
        try:
            if path.suffix == ".jsonl":
                assert not text or text.endswith("\n"), "last line cut off"
                [json.loads(line) for line in text.splitlines()]
            else:
                json.loads(text)
        except (ValueError, AssertionError) as err:
            problems.append(f"{path}: {err}")
    for manifest in root.glob(f"*/{MANIFEST}"):
        content = json.loads(manifest.read_text(encoding="utf-8")).get("content")
        if content is not None and content != folder_digest(manifest.parent):
            problems.append(f"{manifest}: content differs from its folder")
    return problems


def finished(root: Path) -> dict[str, bytes]:
    """The manifests of the stages that finished (a resume must leave them as they are)."""
    return {m.parent.name: m.read_bytes() for m in root.glob(f"*/{MANIFEST}")}


def assert_clear(code: int, output: str, *phrases: str) -> None:
    assert code == 1 and "Traceback" not in output, output
    assert "error" in output.lower() and all(p in output for p in phrases), output


@pytest.mark.parametrize("size_kb", [64, 160])
def test_full_disk_then_resume(tmp_path: Path, size_kb: int) -> None:
    """The run directory on a disk that fills up part-way (where depends on the size)."""
    task = world.write_task(tmp_path / "task")
    disk, cache = tmp_path / "disk", tmp_path / "calls.sqlite"
    out = disk / "run"
    with small_disk(disk, size_kb) as mounted:
        limit = None if mounted else size_kb * 64  # bytes a file may hold (no mount: EFBIG)
        code, output = run(task, out, cache, file_limit=limit)
        assert_clear(code, output, "no space left", "--out")
        assert half_written(out) == []
        kept = finished(out)
        named = output[output.index("error:") :].split("no space")[0]
        if len(kept) < len(STAGES):  # the error shown is the one that stopped the run, not
            assert "usage.json" not in named, output  # the usage log's after it
        if mounted:
            _remount(disk, "size=64m")
        code, output = run(task, out, cache)
        assert code == 0, output
        assert half_written(out) == []
        assert {k: v for k, v in finished(out).items() if k in kept} == kept


def test_full_disk_under_the_cache(tmp_path: Path) -> None:
    """The call cache on a disk with no room: a clear error naming the cache, and a resume once
    there is room pays only for what was never stored."""
    task = world.write_task(tmp_path / "task")
    disk, out = tmp_path / "disk", tmp_path / "run"
    cache = disk / "calls.sqlite"
    with small_disk(disk, 48) as mounted:
        if not mounted:
            pytest.skip("no tmpfs can be mounted here (the per-file limit is tested above)")
        code, output = run(task, out, cache)
        assert_clear(code, output, "no space left", "calls.sqlite")
        assert half_written(out) == []
        _remount(disk, "size=64m")
        code, output = run(task, out, cache)
        assert code == 0, output
        with sqlite3.connect(f"file:{cache}?mode=ro", uri=True) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("where", ["run directory", "call cache"])
def test_read_only(tmp_path: Path, where: str) -> None:
    """A run part-done, then its folder made read-only: the rerun refuses clearly and changes
    nothing."""
    task = world.write_task(tmp_path / "task")
    disk = tmp_path / "disk"
    out, cache = (disk / "run", tmp_path / "calls.sqlite")
    if where == "call cache":
        out, cache = tmp_path / "run", disk / "calls.sqlite"
    with small_disk(disk, 4096) as mounted:
        if not mounted and os.geteuid() == 0:
            pytest.skip("root writes to read-only folders and no tmpfs can be mounted here")
        code, output = run(task, out, cache, "--to", "generate")
        assert code == 0, output
        before = snapshot(disk)
        if mounted:
            _remount(disk, "ro")
        else:
            for path in [disk, *disk.rglob("*")]:
                path.chmod(path.stat().st_mode & ~0o222)
        try:
            code, output = run(task, out, cache)
        finally:
            if not mounted:
                for path in [disk, *disk.rglob("*")]:
                    path.chmod(path.stat().st_mode | 0o200)
        assert_clear(code, output, "--out" if where == "run directory" else "--cache")
        assert snapshot(disk) == before
