"""Job state: one table, the same SQL on SQLite (embedded default) and PostgreSQL (replicas).

The queue is that table. A worker claims the oldest queued job, or a running one whose lease
has expired (its gateway died), in one statement: on PostgreSQL with ``FOR UPDATE SKIP
LOCKED`` so replicas never take the same row and never wait on each other; on SQLite under
``BEGIN IMMEDIATE`` (one writer at a time, one host). Every later write by the worker
(heartbeat, checkpoint, result) is conditional on still holding the lease, so a worker whose
job was cancelled or taken over learns it at its next write and stops.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from service.jobs.schemas import FINISHED


class DuplicateJob(Exception):
    """Another job of this owner already has this idempotency key."""


@dataclass
class JobRow:
    """One job as stored."""

    id: str
    owner: str
    status: str
    parameters: dict[str, Any]
    model: dict[str, Any]
    created_at: float
    idem_key: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error: dict[str, Any] | None = None
    frames_done: int = 0
    frames_total: int | None = None
    media_s_done: float = 0.0
    media_s_total: float | None = None
    rate_fps: float | None = None
    ckpt_offset: int = 0
    ckpt_index: int | None = None
    ckpt_frames: int = 0
    lease_owner: str | None = None
    lease_until: float | None = None
    attempts: int = 0
    upload_bytes: int = 0
    result: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Checkpoint:
    """Where a resumed run starts: the frames file cut at ``offset`` holds ``frames`` frames,
    the last with index ``index`` (None: start from the beginning)."""

    offset: int
    index: int | None
    frames: int


@dataclass(frozen=True)
class Progress:
    frames_done: int
    frames_total: int | None
    media_s_done: float
    media_s_total: float | None
    rate_fps: float | None


class JobStore(Protocol):
    """What the runner and the routes need from a store (both implementations below)."""

    def create(self, row: JobRow) -> None: ...
    def get(self, job_id: str) -> JobRow | None: ...
    def by_idempotency_key(self, owner: str, key: str) -> JobRow | None: ...
    def list(self, owner: str, limit: int) -> list[JobRow]: ...
    def claim(self, worker: str, lease_s: float) -> JobRow | None: ...
    def heartbeat(
        self, job_id: str, worker: str, lease_s: float, progress: Progress, ckpt: Checkpoint
    ) -> bool: ...
    def finish(self, job_id: str, worker: str, status: str, **fields: Any) -> bool: ...
    def release(self, job_id: str, worker: str) -> bool: ...
    def cancel(self, job_id: str) -> bool: ...
    def delete(self, job_id: str) -> None: ...
    def expired(self, before: float) -> list[str]: ...
    def counts(self) -> dict[str, int]: ...
    def ids(self) -> set[str]: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


COLUMNS = [
    "id",
    "owner",
    "idem_key",
    "status",
    "parameters",
    "model",
    "created_at",
    "started_at",
    "finished_at",
    "error",
    "frames_done",
    "frames_total",
    "media_s_done",
    "media_s_total",
    "rate_fps",
    "ckpt_offset",
    "ckpt_index",
    "ckpt_frames",
    "lease_owner",
    "lease_until",
    "attempts",
    "upload_bytes",
    "result",
]
JSON_COLUMNS = {"parameters", "model", "error", "result"}
SELECT = ", ".join(COLUMNS)
SUMMARY = ", ".join(c for c in COLUMNS if c != "result")  # listings: no result blob

DDL = """
CREATE TABLE IF NOT EXISTS mmed_jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    idem_key TEXT,
    status TEXT NOT NULL,
    parameters TEXT NOT NULL,
    model TEXT NOT NULL,
    created_at {real} NOT NULL,
    started_at {real},
    finished_at {real},
    error TEXT,
    frames_done BIGINT NOT NULL DEFAULT 0,
    frames_total BIGINT,
    media_s_done {real} NOT NULL DEFAULT 0,
    media_s_total {real},
    rate_fps {real},
    ckpt_offset BIGINT NOT NULL DEFAULT 0,
    ckpt_index BIGINT,
    ckpt_frames BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until {real},
    attempts INTEGER NOT NULL DEFAULT 0,
    upload_bytes BIGINT NOT NULL DEFAULT 0,
    result TEXT,
    UNIQUE (owner, idem_key)
);
CREATE INDEX IF NOT EXISTS mmed_jobs_queue ON mmed_jobs (status, created_at);
CREATE INDEX IF NOT EXISTS mmed_jobs_owner ON mmed_jobs (owner, created_at);
"""


class SqlStore:
    """The SQL both databases share; subclasses give connections, the dialect and ``claim``."""

    placeholder = "?"
    real = "REAL"
    lock_clause = ""

    @contextmanager
    def _tx(self) -> Iterator[Any]:  # a cursor inside one transaction
        raise NotImplementedError

    def _is_duplicate(self, exc: Exception) -> bool:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _exec(self, sql: str, params: tuple = ()) -> int:
        with self._tx() as cur:
            cur.execute(self._sql(sql), params)
            return cur.rowcount

    def _rows(self, sql: str, params: tuple = (), columns: list[str] = COLUMNS) -> list[JobRow]:
        with self._tx() as cur:
            cur.execute(self._sql(sql), params)
            return [_row(columns, r) for r in cur.fetchall()]

    def migrate(self) -> None:
        with self._tx() as cur:
            for statement in DDL.format(real=self.real).split(";"):
                if statement.strip():
                    cur.execute(statement)

    # -- the routes -------------------------------------------------------------------------
    def create(self, row: JobRow) -> None:
        values = tuple(_value(c, getattr(row, c)) for c in COLUMNS)
        marks = ", ".join("?" for _ in COLUMNS)
        try:
            self._exec(f"INSERT INTO mmed_jobs ({SELECT}) VALUES ({marks})", values)
        except Exception as exc:
            if self._is_duplicate(exc):
                raise DuplicateJob(row.idem_key) from exc
            raise

    def get(self, job_id: str) -> JobRow | None:
        rows = self._rows(f"SELECT {SELECT} FROM mmed_jobs WHERE id = ?", (job_id,))
        return rows[0] if rows else None

    def by_idempotency_key(self, owner: str, key: str) -> JobRow | None:
        rows = self._rows(
            f"SELECT {SELECT} FROM mmed_jobs WHERE owner = ? AND idem_key = ?", (owner, key)
        )
        return rows[0] if rows else None

    def list(self, owner: str, limit: int) -> list[JobRow]:
        columns = [c for c in COLUMNS if c != "result"]
        return self._rows(
            f"SELECT {SUMMARY} FROM mmed_jobs WHERE owner = ? ORDER BY created_at DESC, id LIMIT ?",
            (owner, limit),
            columns,
        )

    def cancel(self, job_id: str) -> bool:
        """Queued or running → cancelled (a running job's worker stops at its next write)."""
        return (
            self._exec(
                "UPDATE mmed_jobs SET status = 'cancelled', finished_at = ?, lease_owner = NULL "
                "WHERE id = ? AND status IN ('queued', 'running')",
                (time.time(), job_id),
            )
            == 1
        )

    def delete(self, job_id: str) -> None:
        self._exec("DELETE FROM mmed_jobs WHERE id = ?", (job_id,))

    # -- the runner -------------------------------------------------------------------------
    def claim(self, worker: str, lease_s: float) -> JobRow | None:
        now = time.time()
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "SELECT id FROM mmed_jobs WHERE status = 'queued' "
                    "OR (status = 'running' AND lease_until < ?) "
                    f"ORDER BY created_at, id LIMIT 1{self.lock_clause}"
                ),
                (now,),
            )
            found = cur.fetchone()
            if found is None:
                return None
            cur.execute(
                self._sql(
                    "UPDATE mmed_jobs SET status = 'running', lease_owner = ?, lease_until = ?, "
                    "started_at = COALESCE(started_at, ?), attempts = attempts + 1 WHERE id = ?"
                ),
                (worker, now + lease_s, now, found[0]),
            )
            cur.execute(self._sql(f"SELECT {SELECT} FROM mmed_jobs WHERE id = ?"), (found[0],))
            return _row(COLUMNS, cur.fetchone())

    def heartbeat(
        self, job_id: str, worker: str, lease_s: float, progress: Progress, ckpt: Checkpoint
    ) -> bool:
        """Renew the lease and record progress and the checkpoint; False: the job is no
        longer this worker's (cancelled, or taken over after the lease ran out)."""
        return (
            self._exec(
                "UPDATE mmed_jobs SET lease_until = ?, frames_done = ?, frames_total = ?, "
                "media_s_done = ?, media_s_total = ?, rate_fps = ?, ckpt_offset = ?, "
                "ckpt_index = ?, ckpt_frames = ? "
                "WHERE id = ? AND lease_owner = ? AND status = 'running'",
                (
                    time.time() + lease_s,
                    progress.frames_done,
                    progress.frames_total,
                    progress.media_s_done,
                    progress.media_s_total,
                    progress.rate_fps,
                    ckpt.offset,
                    ckpt.index,
                    ckpt.frames,
                    job_id,
                    worker,
                ),
            )
            == 1
        )

    def finish(self, job_id: str, worker: str, status: str, **fields: Any) -> bool:
        """A final status (succeeded/failed) with its fields, if the job is still ours."""
        assert status in FINISHED
        names = ["status", "finished_at", "lease_owner", "lease_until", *fields]
        values = [status, time.time(), None, None, *(_value(k, v) for k, v in fields.items())]
        sets = ", ".join(f"{n} = ?" for n in names)
        return (
            self._exec(
                f"UPDATE mmed_jobs SET {sets} "
                "WHERE id = ? AND lease_owner = ? AND status = 'running'",
                (*values, job_id, worker),
            )
            == 1
        )

    def release(self, job_id: str, worker: str) -> bool:
        """Hand a running job back to the queue (shutdown); its checkpoint stays."""
        return (
            self._exec(
                "UPDATE mmed_jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL, "
                "rate_fps = NULL WHERE id = ? AND lease_owner = ? AND status = 'running'",
                (job_id, worker),
            )
            == 1
        )

    def expired(self, before: float) -> list[str]:
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "SELECT id FROM mmed_jobs WHERE status IN ('succeeded', 'failed', "
                    "'cancelled') AND finished_at < ?"
                ),
                (before,),
            )
            return [r[0] for r in cur.fetchall()]

    def counts(self) -> dict[str, int]:
        with self._tx() as cur:
            cur.execute("SELECT status, COUNT(*) FROM mmed_jobs GROUP BY status")
            return {status: int(n) for status, n in cur.fetchall()}

    def ids(self) -> set[str]:
        with self._tx() as cur:
            cur.execute("SELECT id FROM mmed_jobs")
            return {r[0] for r in cur.fetchall()}

    def ping(self) -> None:
        with self._tx() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()


def _value(column: str, value: Any) -> Any:
    if column in JSON_COLUMNS and value is not None:
        return json.dumps(value, separators=(",", ":"))
    return value


def _row(columns: list[str], values: Any) -> JobRow:
    data = dict(zip(columns, values, strict=True))
    for c in JSON_COLUMNS & data.keys():
        if data[c] is not None:
            data[c] = json.loads(data[c])
    return JobRow(**data)


def open_store(url: str, default_sqlite: str) -> SqlStore:
    """The store ``url`` names: ``postgresql://...`` or ``sqlite:///path`` (empty: the
    embedded default ``default_sqlite``), created or migrated."""
    if url.startswith(("postgresql://", "postgres://")):
        from service.jobs.postgres import PostgresStore

        store: SqlStore = PostgresStore(url)
    else:
        from service.jobs.sqlite import SQLiteStore

        path = url.removeprefix("sqlite:///") if url else default_sqlite
        store = SQLiteStore(path)
    store.migrate()
    return store
