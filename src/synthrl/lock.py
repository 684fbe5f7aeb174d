"""One `synthrl run` per run directory at a time.

`RunLock(root)` takes an exclusive advisory lock (`flock`) on `root/.lock` and holds it while the
run lives. The operating system releases it when the process ends, however it ends (SIGKILL, an
out-of-memory kill, a crash), so a stale lock never blocks a resume. A second run on a directory
in use refuses at once with a `SynthRLError` naming the process that holds it. The lock file
records that process (pid, host, start time, command) for the message; its presence alone means
nothing. Under a multi-process launch (accelerate) only rank 0 locks: the ranks of one launch
share the run directory by design.

    with RunLock(Path("runs/gsm8k")):
        ...  # run the stages

Locks on a network file system (NFS) are only as reliable as its `flock` support.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import sys
import time
from pathlib import Path

from synthrl.errors import SynthRLError, disk_error
from synthrl.train.processes import is_main_process

LOCK_FILE = ".lock"


class RunLock:
    """An exclusive lock on a run directory (a context manager; `acquire` / `release`)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock, creating the run directory if needed; raise SynthRLError if another
        process holds it or the directory cannot be written."""
        if self._fd is not None or not is_main_process():
            return self
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise disk_error(err, self.path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise disk_error(err, self.path) from None
            raise SynthRLError(
                f"{self.root} is in use by another synthrl run ({self._holder()}). Wait for it "
                "to finish or stop it (a killed run releases the directory at once), or give "
                "this run another --out."
            ) from None
        self._fd = fd
        self._record()
        return self

    def release(self) -> None:
        """Give the lock up (safe to call more than once)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _record(self) -> None:
        """Write who holds the lock (best effort: a full disk must not stop the run here)."""
        assert self._fd is not None
        started = time.strftime("%Y-%m-%d %H:%M:%S")
        command = " ".join(sys.argv[:8])[:300]
        text = f"pid {os.getpid()} on {socket.gethostname()} since {started}: {command}\n"
        try:
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, text.encode(), 0)
        except OSError:
            pass

    def _holder(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            text = ""
        return text or "a process that has just started"
