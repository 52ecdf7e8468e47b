"""The job API (C5) in-process: contract, ownership, idempotency, cleanup, limits, stores."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.jobs.records import FramesWriter
from service.settings import Settings
from tools.facevideo import face_image

K1 = {"X-API-Key": "key-one"}
K2 = {"X-API-Key": "key-two"}
Make = Callable[..., TestClient]


@pytest.fixture
def make(shipped: Path, tmp_path: Path) -> Iterator[Make]:
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        overrides.setdefault("model_repository", shipped)
        overrides.setdefault("jobs_dir", tmp_path / f"jobs{len(clients)}")
        overrides.setdefault("api_keys", ["key-one", "key-two"])
        overrides.setdefault("jobs_poll_s", 0.1)
        overrides.setdefault("jobs_beat_s", 0.2)
        overrides.setdefault("jobs_events_s", 0.1)
        client = TestClient(create_app(Settings(**overrides)), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield build
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def throttled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each frame record takes at least 10 ms to write, so a 360-frame job runs >= 3.6 s and a
    test can act on it while it runs (on a fast machine the whole job took 1.2 s: CI once saw it
    finish between the poll that saw frame 200 and the shutdown)."""
    append = FramesWriter.append

    def slow_append(self: FramesWriter, record: Any) -> None:
        time.sleep(0.01)
        append(self, record)

    monkeypatch.setattr(FramesWriter, "append", slow_append)


def submit(c: TestClient, data: bytes, headers: dict = K1, query: str = "sample_interval=0"):
    return c.post(f"/v1/jobs?{query}", files={"file": ("clip.mp4", data)}, headers=headers)


def wait(c: TestClient, job_id: str, headers: dict = K1, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.slow)])
def test_contract_result_equals_predict(make: Make, clip: bytes, kind: str, request) -> None:
    db = request.getfixturevalue("pg_url") if kind == "postgres" else ""
    c = make(jobs_db=db)
    r = submit(c, clip)
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"/v1/jobs/{job['id']}"
    assert len(job["id"]) == 22 and job["status"] in ("queued", "running")
    assert job["parameters"]["sample_interval"] == 0 and job["model"]["name"] == "micro-cnn"
    assert job["progress"]["frames_total"] == 60 and job["progress"]["media_s_total"] == 4.0

    # SSE: progress events, then one end event with the finished job.
    events = []
    with c.stream("GET", f"/v1/jobs/{job['id']}/events", headers=K1) as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in s.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    assert events[-1][0] == "end" and events[-1][1]["status"] == "succeeded"
    assert {n for n, _ in events[:-1]} <= {"progress"}
    done = wait(c, job["id"])
    assert done["progress"]["frames_done"] == 60 and done["finished_at"] and done["started_at"]

    result = c.get(f"/v1/jobs/{job['id']}/result", headers=K1).json()
    predicted = c.post(
        "/v1/predict?sample_interval=0", files={"file": ("clip.mp4", clip)}, headers=K1
    ).json()
    assert result["frames"] == predicted["frames"]
    assert result["summary"] == predicted["summary"]
    assert result["media"] == predicted["media"] and result["model"] == predicted["model"]
    assert result["events"] == predicted["events"] and isinstance(result["events"], list)
    assert set(result["timing_ms"]) == set(predicted["timing_ms"])

    page = c.get(f"/v1/jobs/{job['id']}/result?offset=10&limit=5", headers=K1).json()
    assert page["frames"] == predicted["frames"][10:15]
    lines = c.get(
        f"/v1/jobs/{job['id']}/result?offset=55",
        headers={**K1, "Accept": "application/x-ndjson"},
    ).text.splitlines()
    assert [json.loads(x) for x in lines] == predicted["frames"][55:]

    listed = c.get("/v1/jobs", headers=K1).json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert c.get("/metrics").text.count("mmed_job_duration_seconds_count") == 1


def test_ownership_auth_and_idempotency(make: Make, clip: bytes) -> None:
    c = make()
    first = submit(c, clip, {**K1, "Idempotency-Key": "abc"}).json()
    again = submit(c, clip, {**K1, "Idempotency-Key": "abc"})
    assert again.status_code == 202 and again.json()["id"] == first["id"]
    other = submit(c, clip, {**K2, "Idempotency-Key": "abc"}).json()
    assert other["id"] != first["id"]  # keys are per owner
    jid = first["id"]
    for path in ("", "/result", "/events"):
        assert c.get(f"/v1/jobs/{jid}{path}", headers=K2).status_code == 404
        assert c.get(f"/v1/jobs/{jid}{path}").status_code == 401  # SSE authenticated too
    assert c.delete(f"/v1/jobs/{jid}", headers=K2).status_code == 404
    assert [j["id"] for j in c.get("/v1/jobs", headers=K2).json()["jobs"]] == [other["id"]]
    assert c.get("/v1/jobs/../../etc/passwd", headers=K1).status_code == 404
    assert c.get("/v1/jobs/" + "A" * 22, headers=K1).status_code == 404
    wait(c, jid)
    wait(c, other["id"], K2)


@pytest.mark.slow  # two throttled jobs of >= 3.6 s each
@pytest.mark.usefixtures("throttled")
def test_cancel_and_delete_remove_files(make: Make, long_clip: bytes, tmp_path: Path) -> None:
    c = make(jobs_workers=1)
    running = submit(c, long_clip).json()
    queued = submit(c, long_clip).json()
    root = tmp_path / "jobs0"
    deadline = time.monotonic() + 60
    while c.get(f"/v1/jobs/{running['id']}", headers=K1).json()["progress"]["frames_done"] < 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (root / running["id"] / "frames.ndjson").exists()
    for j in (running, queued):
        r = c.delete(f"/v1/jobs/{j['id']}", headers=K1)
        assert r.status_code == 202 and r.json()["status"] == "cancelled"
        assert not (root / j["id"]).exists()
    time.sleep(1.0)  # the worker notices at its next heartbeat and stops, leaving nothing
    assert not (root / running["id"]).exists()
    assert c.get(f"/v1/jobs/{running['id']}", headers=K1).json()["status"] == "cancelled"
    assert c.get(f"/v1/jobs/{running['id']}/result", headers=K1).status_code == 409
    assert c.delete(f"/v1/jobs/{running['id']}", headers=K1).status_code == 204
    assert c.get(f"/v1/jobs/{running['id']}", headers=K1).status_code == 404


def test_ttl_expiry_removes_finished_jobs_and_files(
    make: Make, clip: bytes, tmp_path: Path
) -> None:
    c = make(jobs_ttl_h=0.0001)  # 0.36 s
    jid = submit(c, clip).json()["id"]
    wait(c, jid)
    assert (tmp_path / "jobs0" / jid / "frames.ndjson").exists()
    time.sleep(0.5)
    removed = c.app.state.jobs.runner.sweep()
    assert removed == [jid]
    assert not (tmp_path / "jobs0" / jid).exists()
    assert c.get(f"/v1/jobs/{jid}", headers=K1).status_code == 404


def test_disk_limit_gives_507_and_leaves_nothing(make: Make, clip: bytes, tmp_path: Path) -> None:
    # The database outside the jobs directory: its size changes as it checkpoints, which
    # would move the room left by more than a small clip.
    c = make(jobs_db=f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    files = c.app.state.jobs.files
    # Room for less than the clip: a 507. Set before any job runs, so a finished job freeing
    # its upload cannot make room meanwhile.
    files.max_bytes = files.used_bytes() + len(clip) // 2
    r = submit(c, clip)
    assert r.status_code == 507 and r.headers["content-type"] == "application/problem+json"
    assert "Retry-After" in r.headers
    assert [p for p in (tmp_path / "jobs0").iterdir() if p.is_dir()] == []  # nothing left
    files.max_bytes = files.used_bytes() + len(clip) * 3 // 2  # room for one clip
    first = submit(c, clip)
    assert first.status_code == 202
    dirs = [p.name for p in (tmp_path / "jobs0").iterdir() if p.is_dir()]
    assert dirs == [first.json()["id"]]
    wait(c, first.json()["id"])


def test_bad_uploads_and_limits(make: Make, clip: bytes) -> None:
    c = make(max_video_s=2.0, jobs_max_frames=1000)
    r = submit(c, b"not a video at all")
    assert r.status_code == 415
    r = submit(c, clip, query="max_frames=1001")
    assert r.status_code == 400
    # /v1/predict keeps its limits and points long recordings to the job API.
    p = c.post("/v1/predict", files={"file": ("clip.mp4", clip)}, headers=K1)
    assert p.status_code == 413 and "/v1/jobs" in p.json()["detail"]
    ok = submit(c, clip)  # the job limits are their own
    assert ok.status_code == 202
    assert wait(c, ok.json()["id"])["status"] == "succeeded"
    image = c.post("/v1/jobs", files={"file": ("f.jpg", face_image())}, headers=K1).json()
    assert image["progress"]["frames_total"] == 1 and image["progress"]["media_s_total"] is None
    assert wait(c, image["id"])["status"] == "succeeded"
    result = c.get(f"/v1/jobs/{image['id']}/result", headers=K1).json()
    assert result["media"]["kind"] == "image" and len(result["frames"]) == 1
    assert c.get("/readyz").status_code == 200


@pytest.mark.slow  # runs a job, stops the gateway, runs it again
@pytest.mark.usefixtures("throttled")
def test_shutdown_hands_running_jobs_back_and_they_finish_the_same(
    make: Make, long_clip: bytes, tmp_path: Path
) -> None:
    """Lifespan end (what SIGTERM triggers): the job checkpoints and goes back to the queue;
    the next gateway on the directory finishes it with the frames of an uninterrupted run."""
    jobs_dir = tmp_path / "shared"
    first = make(jobs_dir=jobs_dir)
    jid = submit(first, long_clip).json()["id"]
    deadline = time.monotonic() + 60
    while first.get(f"/v1/jobs/{jid}", headers=K1).json()["progress"]["frames_done"] < 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    store = first.app.state.jobs.store
    first.__exit__(None, None, None)
    row = store.get(jid)
    assert row is not None and row.status == "queued" and row.lease_owner is None
    assert 0 < row.ckpt_frames < 360 and row.ckpt_index is not None
    second = make(jobs_dir=jobs_dir)
    assert wait(second, jid)["status"] == "succeeded"
    result = second.get(f"/v1/jobs/{jid}/result", headers=K1).json()
    reference = second.post(
        "/v1/predict?sample_interval=0", files={"file": ("c.mp4", long_clip)}, headers=K1
    ).json()
    assert [f["index"] for f in result["frames"]] == list(range(360))
    assert [f["face"] for f in result["frames"]] == [f["face"] for f in reference["frames"]]
    assert [f["label"] for f in result["frames"]] == [f["label"] for f in reference["frames"]]


def test_masked_jobs_name_their_smile_gate(make: Make, clip: bytes) -> None:
    """A masked job goes through the gateway's smile gate, as /v1/predict does, and says so."""
    c = make()
    job = submit(c, clip, query="task=masked&sample_interval=1").json()
    gate = job["model"]["gate"]
    assert gate is not None and gate["model"] == "micro-cnn" and gate["smile_class"] == "happiness"
    assert wait(c, job["id"])["status"] == "succeeded"
    result = c.get(f"/v1/jobs/{job['id']}/result", headers=K1).json()
    assert result["model"]["gate"] == gate
    reference = c.post(
        "/v1/predict?task=masked&sample_interval=1", files={"file": ("c.mp4", clip)}, headers=K1
    ).json()
    assert reference["model"]["gate"] == gate
    for got, want in zip(result["frames"], reference["frames"], strict=True):
        assert got["label"] == want["label"]
        if want["probabilities"] is not None:
            assert got["probabilities"] == pytest.approx(want["probabilities"], abs=1e-6)


@pytest.mark.slow  # waits for a throttled job of >= 3.6 s
@pytest.mark.usefixtures("throttled")
def test_a_job_whose_model_version_was_removed_fails_clearly(
    make: Make, long_clip: bytes, clip: bytes, shipped: Path, tmp_path: Path
) -> None:
    """A queued job whose model version left the repository before it ran fails with a
    409 problem naming the version; the gateway stays healthy."""
    import shutil

    repo = tmp_path / "repo"
    for name in ("micro-cnn", "masked-cnn"):
        newest = max((shipped / name).iterdir(), key=lambda p: int(p.name))
        shutil.copytree(newest, repo / name / newest.name)
    extra = repo / "micro-cnn" / "2"  # an older version: the default stays the newest
    shutil.copytree(max((repo / "micro-cnn").iterdir()), extra)
    card_path = extra / "assets.extra" / "mmed.json"
    card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps({**card, "version": 2}))
    c = make(model_repository=repo, jobs_workers=1)
    running = submit(c, long_clip).json()  # >= 3.6 s (throttled): the next one waits
    doomed = submit(c, clip, query="model=micro-cnn&version=2&sample_interval=0").json()
    assert doomed["status"] == "queued" and doomed["model"]["version"] == 2
    shutil.rmtree(extra)
    c.app.state.catalogue.refresh(force=True)
    job = wait(c, doomed["id"])
    assert job["status"] == "failed", job
    assert job["error"]["status"] == 409 and "no version 2" in job["error"]["detail"]
    assert job["error"]["title"] == "Model unavailable"
    assert wait(c, running["id"])["status"] == "succeeded"
    assert c.get("/readyz").status_code == 200
