"""The gateway under test: ``uvicorn service.app:app`` in a subprocess, timed over HTTP.

Timings are client wall clock for one ``POST /v1/predict`` (upload, decode, detect, infer,
JSON answer). Memory is read from ``/proc/<pid>/status``: VmRSS now, VmHWM the peak since the
last ``reset_peak`` (writing 5 to ``/proc/<pid>/clear_refs`` resets it, Linux >= 4.0).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tools.local_server import local_server
from tools.procfs import status_bytes


@dataclass
class Gateway:
    url: str
    pid: int
    client: httpx.Client

    def predict(self, data: bytes, filename: str, **params: Any) -> dict:
        files = {"file": (filename, data, "application/octet-stream")}
        r = self.client.post(f"{self.url}/v1/predict", files=files, params=params)
        if r.status_code != 200:
            raise RuntimeError(f"predict {filename} {params}: {r.status_code} {r.text[:300]}")
        return r.json()

    def rss(self) -> int:
        return status_bytes("VmRSS", self.pid)

    def peak(self) -> int:
        return status_bytes("VmHWM", self.pid)

    def reset_peak(self) -> bool:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False


@contextmanager
def gateway(repository: Path, env: dict[str, str] | None = None) -> Iterator[Gateway]:
    """A ready gateway over ``repository`` (embedded backend), stopped afterwards."""
    log = Path(tempfile.mkdtemp(prefix="mmed-bench-")) / "uvicorn.log"
    server_env = {"MMED_LOG_LEVEL": "WARNING", **(env or {})}
    with (
        local_server(repository, log=log, env=server_env, access_log=False) as server,
        httpx.Client(timeout=600.0) as client,
    ):
        yield Gateway(server.url, server.pid, client)
