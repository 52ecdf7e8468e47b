"""The same store tests on SQLite and on a real PostgreSQL cluster."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from service.jobs.files import new_id
from service.jobs.store import Checkpoint, DuplicateJob, JobRow, Progress, SqlStore

PARAMS = {
    "task": "micro",
    "model": "micro-cnn",
    "version": 1,
    "sample_interval": 0.0,
    "detect_faces": True,
    "max_frames": 100,
}
MODEL = {"name": "micro-cnn", "version": 1, "task": "micro", "classes": ["a", "b"]}


def job(owner: str = "o1", created: float | None = None, key: str | None = None) -> JobRow:
    return JobRow(
        id=new_id(),
        owner=owner,
        status="queued",
        parameters=PARAMS,
        model=MODEL,
        created_at=time.time() if created is None else created,
        idem_key=key,
    )


def progress(n: int) -> Progress:
    return Progress(n, 100, n / 30, 10.0, 30.0)


def test_create_get_list_newest_first_per_owner(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    a, b, c = job(created=1.0), job(created=2.0), job("o2", created=3.0)
    for row in (a, b, c):
        store.create(row)
    got = store.get(a.id)
    assert got is not None and got.parameters == PARAMS and got.model == MODEL
    assert got.status == "queued" and got.ckpt_index is None and got.result is None
    assert [r.id for r in store.list("o1", 10)] == [b.id, a.id]
    assert [r.id for r in store.list("o2", 10)] == [c.id]
    assert store.get(new_id()) is None
    assert store.counts() == {"queued": 3}


def test_idempotency_key_is_unique_per_owner(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    first = job(key="k")
    store.create(first)
    with pytest.raises(DuplicateJob):
        store.create(job(key="k"))
    store.create(job("o2", key="k"))  # another owner may use the same key
    found = store.by_idempotency_key("o1", "k")
    assert found is not None and found.id == first.id
    assert store.by_idempotency_key("o1", "other") is None


def test_claim_takes_the_oldest_once(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    old, new = job(created=1.0), job(created=2.0)
    store.create(new)
    store.create(old)
    first = store.claim("w1", lease_s=30)
    second = store.claim("w2", lease_s=30)
    assert first is not None and first.id == old.id and first.lease_owner == "w1"
    assert first.status == "running" and first.attempts == 1 and first.started_at
    assert second is not None and second.id == new.id
    assert store.claim("w3", lease_s=30) is None


def test_heartbeat_checkpoint_finish_and_lost_lease(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    row = job()
    store.create(row)
    assert store.claim("w1", lease_s=30) is not None
    ckpt = Checkpoint(1234, 41, 42)
    assert store.heartbeat(row.id, "w1", 30, progress(50), ckpt)
    assert not store.heartbeat(row.id, "w2", 30, progress(50), ckpt)  # not w2's
    got = store.get(row.id)
    assert got is not None
    assert (got.ckpt_offset, got.ckpt_index, got.ckpt_frames, got.frames_done) == (1234, 41, 42, 50)
    assert store.finish(row.id, "w1", "succeeded", frames_done=60, result={"x": [1, 2]})
    done = store.get(row.id)
    assert done is not None and done.status == "succeeded" and done.result == {"x": [1, 2]}
    assert done.finished_at and done.lease_owner is None
    assert not store.finish(row.id, "w1", "failed")  # final already


def test_an_expired_lease_is_taken_over_with_its_checkpoint(
    make_store: Callable[[], SqlStore],
) -> None:
    store = make_store()
    row = job()
    store.create(row)
    assert store.claim("dead", lease_s=0.2) is not None
    assert store.heartbeat(row.id, "dead", 0.2, progress(10), Checkpoint(99, 9, 10))
    assert store.claim("w2", lease_s=30) is None  # lease still valid
    time.sleep(0.3)
    taken = store.claim("w2", lease_s=30)
    assert taken is not None and taken.id == row.id and taken.attempts == 2
    assert (taken.ckpt_offset, taken.ckpt_index, taken.ckpt_frames) == (99, 9, 10)
    assert not store.heartbeat(row.id, "dead", 30, progress(11), Checkpoint(0, None, 0))


def test_cancel_stops_the_worker_and_release_requeues(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    a, b = job(created=1.0), job(created=2.0)
    store.create(a)
    store.create(b)
    assert store.claim("w", 30) is not None
    assert store.cancel(a.id)
    assert not store.heartbeat(a.id, "w", 30, progress(1), Checkpoint(0, None, 0))
    assert not store.cancel(a.id)  # already final
    assert store.claim("w", 30) is not None  # b
    assert store.release(b.id, "w")
    again = store.claim("w2", 30)
    assert again is not None and again.id == b.id
    assert again.attempts == 1  # handed back at shutdown: not counted as a failed attempt


def test_expired_finished_jobs_and_delete(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    row, queued = job(), job()
    store.create(row)
    store.create(queued)
    store.claim("w", 30)
    store.finish(row.id, "w", "failed", error={"status": 422})
    assert store.expired(time.time() + 1) == [row.id]  # queued jobs never expire
    assert store.expired(time.time() - 60) == []
    store.delete(row.id)
    assert store.get(row.id) is None and store.ids() == {queued.id}


def test_concurrent_claimers_on_several_connections_take_each_job_once(
    make_store: Callable[[], SqlStore],
) -> None:
    """Four 'gateways' (stores of their own), two threads each, racing over 40 jobs."""
    stores = [make_store() for _ in range(4)]
    rows = [job(created=float(i)) for i in range(40)]
    for row in rows:
        stores[0].create(row)
    claimed: list[tuple[str, str]] = []
    lock = threading.Lock()

    start = threading.Barrier(8)

    def claim_all(store: SqlStore, name: str) -> None:
        start.wait(30)  # all racing from the first claim (a loaded machine starts threads late)
        while (got := store.claim(name, 60)) is not None:
            with lock:
                claimed.append((got.id, name))
            time.sleep(0.002)  # a job takes time: the others get their turn

    threads = [
        threading.Thread(target=claim_all, args=(s, f"w{i}-{t}"))
        for i, s in enumerate(stores)
        for t in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    ids = [c[0] for c in claimed]
    assert sorted(ids) == sorted(r.id for r in rows)  # every job, each exactly once
    assert len({c[1] for c in claimed}) > 1  # the work was shared
