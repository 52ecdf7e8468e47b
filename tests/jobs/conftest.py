"""Fixtures for the job tests: a private PostgreSQL cluster (skipped cleanly without one),
stores of both kinds, and short real-face clips."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pg_cluster import Cluster, start_cluster, unavailable

from service.jobs.store import SqlStore, open_store
from tools.facevideo import face_video

SHIPPED = Path(__file__).resolve().parents[2] / "model_repository"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    cluster = start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh database on the session's cluster."""
    return pg_cluster.new_database()


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], SqlStore]]:
    """Stores of one kind on one database (several = several gateways sharing it)."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    else:
        url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    opened: list[SqlStore] = []

    def make() -> SqlStore:
        store = open_store(url, "")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture(scope="session")
def shipped() -> Path:
    if not all((SHIPPED / n).is_dir() for n in ("micro-cnn", "masked-cnn")):
        pytest.skip(f"the shipped models are not in {SHIPPED}")
    return SHIPPED


@pytest.fixture(scope="session")
def clip() -> bytes:
    """4 s of a real face photo drifting, 15 fps (60 frames), H.264."""
    return face_video(seconds=4.0, fps=15, width=640, height=480)


@pytest.fixture(scope="session")
def long_clip() -> bytes:
    """24 s at 15 fps (360 frames): long enough to kill a gateway in the middle."""
    return face_video(seconds=24.0, fps=15, width=640, height=480)
