"""The replicated store: PostgreSQL through psycopg 3 and a small connection pool."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from service.jobs.store import SqlStore


class PostgresStore(SqlStore):
    """Claims with ``FOR UPDATE SKIP LOCKED``: replicas take different rows, never wait."""

    placeholder = "%s"
    real = "DOUBLE PRECISION"
    lock_clause = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, max_size: int = 8) -> None:
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            open=True,
            timeout=10.0,
            check=ConnectionPool.check_connection,
        )

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    def migrate(self) -> None:
        # Replicas starting together: one creates the table, the others wait for it.
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(7465823)")
            for statement in self._ddl():
                conn.execute(statement)

    def _ddl(self) -> list[str]:
        from service.jobs.store import DDL

        return [s for s in DDL.format(real=self.real).split(";") if s.strip()]

    def _is_duplicate(self, exc: Exception) -> bool:
        return isinstance(exc, psycopg.errors.UniqueViolation)

    def close(self) -> None:
        self.pool.close()
