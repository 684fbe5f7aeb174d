"""Persistent call cache: every sample of every request, keyed by the full request and its index.

SQLite in WAL mode; each finished request is committed at once, so a killed process (even SIGKILL)
loses no completed call and a rerun pays for nothing already answered. Several processes may
share one cache (every run uses the same default file): a writer waits up to `BUSY_S` seconds
for another's transaction. A full disk, a read-only folder or a damaged file become a clear
SynthRLError naming the file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from synthrl.errors import SynthRLError, disk_error
from synthrl.llm.base import Sample

BUSY_S = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
  key TEXT PRIMARY KEY,
  text TEXT NOT NULL,
  finish_reason TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  created REAL NOT NULL
)
"""


class CallCache:
    """A thread-safe key -> sample store in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise disk_error(err, self.path) from None
        with self._guard():  # the busy timeout is set first: opening waits for other writers
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_S, check_same_thread=False, isolation_level=None
            )
            self._db.execute(f"PRAGMA busy_timeout={int(BUSY_S * 1000)}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite's errors about the file itself, as a clear SynthRLError."""
        try:
            yield
        except sqlite3.Error as err:
            problem = _file_problem(err, self.path)
            if problem is None:
                raise
            raise problem from None

    def get_many(self, keys: list[str]) -> dict[str, tuple[Sample, int]]:
        """The cached samples (and their request's prompt tokens) among `keys`."""
        found: dict[str, tuple[Sample, int]] = {}
        with self._lock, self._guard():
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT key, text, finish_reason, prompt_tokens, completion_tokens "
                    f"FROM samples WHERE key IN ({marks})",
                    chunk,
                ).fetchall()
                for key, text, finish, prompt_tokens, completion_tokens in rows:
                    found[key] = (
                        Sample(text, finish, completion_tokens, cached=True),
                        prompt_tokens,
                    )
        return found

    def put_many(self, items: list[tuple[str, Sample, int]]) -> None:
        """Store (key, sample, prompt_tokens) triples in one committed transaction."""
        now = time.time()
        rows = [(k, s.text, s.finish_reason, p, s.completion_tokens, now) for k, s, p in items]
        self._insert("INSERT OR REPLACE", rows)

    def _insert(self, verb: str, rows: list[tuple]) -> int:
        """Insert rows in one committed transaction (rolled back on failure); return how many
        rows changed."""
        with self._lock, self._guard():
            before = self._db.total_changes
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(f"{verb} INTO samples VALUES (?,?,?,?,?,?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back itself
                    self._db.execute("ROLLBACK")
                raise
            return self._db.total_changes - before

    def dump(self, path: str | Path) -> int:
        """Write every entry to `path` as JSON lines (oldest first), replacing it atomically:
        a portable copy that `load` reads back on another machine. Returns the entry count."""
        path = Path(path)
        with self._lock, self._guard():
            rows = self._db.execute(
                "SELECT key, text, finish_reason, prompt_tokens, completion_tokens, created "
                "FROM samples ORDER BY created, key"
            ).fetchall()
        from synthrl.artifacts import write_jsonl  # the project's atomic JSON-lines writer

        names = ("key", "text", "finish_reason", "prompt_tokens", "completion_tokens", "created")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise disk_error(err, path) from None
        write_jsonl(path, (dict(zip(names, row, strict=True)) for row in rows))
        return len(rows)

    def load(self, path: str | Path) -> int:
        """Add the entries of a `dump` file that this cache lacks (kept entries win). Returns
        how many were added; a missing file adds none."""
        path = Path(path)
        if not path.exists():
            return 0
        rows = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                e = json.loads(line)
                rows.append(
                    (
                        e["key"],
                        e["text"],
                        e["finish_reason"],
                        int(e["prompt_tokens"]),
                        int(e["completion_tokens"]),
                        float(e["created"]),
                    )
                )
            except (ValueError, KeyError, TypeError):
                raise SynthRLError(f"{path}:{number} is not a call-cache entry") from None
        return self._insert("INSERT OR IGNORE", rows)

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


_FULL, _READONLY, _CANTOPEN, _PERM, _CORRUPT, _NOTADB, _BUSY = 13, 8, 14, 3, 11, 26, 5


def _file_problem(err: sqlite3.Error, path: Path) -> SynthRLError | None:
    """The user-facing error for an SQLite error about the cache file (None for others)."""
    code = (getattr(err, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(err).lower()
    if code == _FULL or "disk is full" in text:
        return disk_error(OSError(errno.ENOSPC, "No space left on device"), path)
    if code in (_READONLY, _CANTOPEN, _PERM) or "readonly" in text or "unable to open" in text:
        return SynthRLError(
            f"cannot write the call cache {path} ({err}). Give a writable file with --cache "
            "(or --no-cache to run without one)."
        )
    if code in (_CORRUPT, _NOTADB):
        return SynthRLError(
            f"the call cache {path} is damaged ({err}). Move it aside and rerun: a new one is "
            "made, and calls it held are paid again."
        )
    if code == _BUSY:
        return SynthRLError(
            f"the call cache {path} stayed locked by another process for {BUSY_S:.0f} s; is a "
            "process stuck holding it? (--cache gives this run its own file.)"
        )
    return None
