"""The gateway under test: ``uvicorn service.app:app`` in a subprocess, timed over HTTP.

Timings are client wall clock for one ``POST /v1/predict`` (upload, decode, detect, infer,
JSON answer). Memory is read from ``/proc/<pid>/status``: VmRSS now, VmHWM the peak since the
last ``reset_peak`` (writing 5 to ``/proc/<pid>/clear_refs`` resets it, Linux >= 4.0).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tools.local_server import ROOT, _stop, free_port


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

    def _status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise KeyError(field)

    def rss(self) -> int:
        return self._status("VmRSS")

    def peak(self) -> int:
        return self._status("VmHWM")

    def reset_peak(self) -> bool:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False


@contextmanager
def gateway(repository: Path, env: dict[str, str] | None = None) -> Iterator[Gateway]:
    """A ready gateway over ``repository`` (embedded backend), stopped afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp(prefix="mmed-bench-")) / "uvicorn.log"
    server_env = {
        **os.environ,
        "MMED_MODEL_REPOSITORY": str(repository),
        "MMED_BACKEND": "embedded",
        "MMED_API_KEYS": "",
        "MMED_LOG_LEVEL": "WARNING",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **(env or {}),
    }
    cmd = [sys.executable, "-m", "uvicorn", "service.app:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=server_env, stdout=sink, stderr=sink)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway not ready:\n{log.read_text()}")
            time.sleep(0.25)
        with httpx.Client(timeout=600.0) as client:
            yield Gateway(url, proc.pid, client)
    finally:
        _stop(proc)
