"""The one user-facing error type: printed without a traceback; exits with its code."""

from __future__ import annotations


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
