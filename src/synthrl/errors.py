"""The one user-facing error type: printed without a traceback; exits with its code."""

from __future__ import annotations

import errno
from pathlib import Path


class SynthRLError(Exception):
    """A problem the user can fix: bad input, a missing model, an unreachable endpoint."""

    exit_code: int = 1

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class TaskFileError(SynthRLError):
    """An invalid task or config file; exits with code 2 before any model is touched."""

    exit_code = 2


_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)
DISK_ERRNOS = frozenset((*_NO_SPACE, *_NOT_WRITABLE, errno.EIO))


def disk_error(err: OSError, path: str | Path) -> SynthRLError:
    """The clear error for a file synthrl could not write or create: a full disk, a read-only
    or foreign folder. Artifacts are written whole or not at all, so the message can promise
    that finished work is kept."""
    where = Path(path)
    if err.errno in _NO_SPACE:
        return SynthRLError(
            f"cannot write {where}: no space left on the device. Free space there "
            f"(`df -h {where.parent}`) or point --out / --cache elsewhere; finished stages and "
            "cached calls are kept, and the same command resumes."
        )
    if err.errno in _NOT_WRITABLE:
        return SynthRLError(
            f"cannot write {where}: {err.strerror or 'not writable'}. Give a writable folder "
            "(--out for the run directory, --cache for the call cache)."
        )
    return SynthRLError(f"cannot write {where}: {err.strerror or err}.")
