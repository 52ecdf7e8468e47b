"""The embedded store: SQLite in WAL mode, one file under ``MMED_JOBS_DIR`` (one host only)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from service.jobs.store import SqlStore


class SQLiteStore(SqlStore):
    """A connection per call (threads share nothing); writers serialised by SQLite."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("PRAGMA synchronous=FULL")
        return db

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlocks
            cur = db.cursor()
            try:
                yield cur
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _is_duplicate(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def close(self) -> None:
        pass
