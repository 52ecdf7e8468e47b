"""Real gateway processes for the job tests (tools/local_server.py's spawn helpers)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tools.local_server import _stop, free_port, spawn, wait_ready

KEY = "live-key"
HEADERS = {"X-API-Key": KEY}


@dataclass
class Gateway:
    url: str
    process: object
    log: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=HEADERS, timeout=60.0)


def gateway_env(repository: Path, jobs_dir: Path, **jobs: str) -> dict[str, str]:
    env = {
        **os.environ,
        "MMED_MODEL_REPOSITORY": str(repository),
        "MMED_API_KEYS": KEY,
        "MMED_BACKEND": "embedded",
        "MMED_JOBS_DIR": str(jobs_dir),
        "MMED_JOBS_POLL_S": "0.2",
        "MMED_JOBS_BEAT_S": "0.3",
        "MMED_JOBS_LEASE_S": "3",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.update({f"MMED_JOBS_{k.upper()}": v for k, v in jobs.items()})
    return env


@contextmanager
def gateway(env: dict[str, str], log: Path) -> Iterator[Gateway]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = spawn(port, env, log, ["--log-level", "warning", "--no-access-log"])
    try:
        wait_ready(proc, url, log, 180.0)
        yield Gateway(url, proc, log)
    finally:
        _stop(proc)


def submit(client: httpx.Client, data: bytes, query: str = "sample_interval=0") -> dict:
    r = client.post(f"/v1/jobs?{query}", files={"file": ("clip.mp4", data)})
    assert r.status_code == 202, r.text
    return r.json()


def wait(client: httpx.Client, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} did not finish: {job}"
        time.sleep(0.2)
