"""Persistent call cache: every sample of every request, keyed by the full request and its index.

SQLite in WAL mode; each finished request is committed at once, so a killed process (even SIGKILL)
loses no completed call and a rerun pays for nothing already answered.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from synthrl.llm.base import Sample

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute(_SCHEMA)

    def get_many(self, keys: list[str]) -> dict[str, tuple[Sample, int]]:
        """The cached samples (and their request's prompt tokens) among `keys`."""
        found: dict[str, tuple[Sample, int]] = {}
        with self._lock:
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
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO samples VALUES (?,?,?,?,?,?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM samples").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
