"""Run the gateway (``uvicorn service.app:app``) in a subprocess on a free loopback port.

The one gateway launcher: the CLI tests, the docs build, the benchmarks, the determinism and
live-server tests and the load test (``loadtest.gateway``) all start it here. A real server on a
real socket, stopped (and killed if it will not stop) when the context ends, also when starting
it failed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LocalServer:
    """A ready gateway: its base URL, its process (``process.pid`` for /proc readings), its log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 20.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; nothing if it has exited already."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def spawn(
    port: int, env: dict[str, str], log: Path, args: list[str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``uvicorn service.app:app`` on 127.0.0.1:``port`` (cwd: the repository), with
    exactly ``env`` and uvicorn's ``args``; stdout and stderr go to ``log``."""
    cmd = [sys.executable, "-m", "uvicorn", "service.app:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), *(args or [])]
    with log.open("wb") as sink:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT
        )


def wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path, timeout_s: float) -> None:
    """Return when ``url``/readyz answers 200; RuntimeError (with the log) if the process
    exits or ``timeout_s`` passes first (the process is left to the caller)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"uvicorn exited with {proc.returncode}:\n{log.read_text(errors='replace')}"
            )
        try:
            if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"not ready after {timeout_s:g} s:\n{log.read_text(errors='replace')[-4000:]}"
            )
        time.sleep(0.25)


@contextmanager
def local_server(
    repository: Path,
    *,
    api_keys: str = "",
    log: Path | None = None,
    start_timeout_s: float = 180.0,
    env: dict[str, str] | None = None,
    log_level: str = "warning",
    access_log: bool = True,
) -> Iterator[LocalServer]:
    """Yield a ready gateway (``/readyz`` answered 200) over ``repository``, embedded backend.

    ``env`` is added to (and overrides) this process's environment and the MMED_ settings set
    here; ``log_level`` and ``access_log`` are uvicorn's. The log defaults to a new temporary
    directory.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if log is None:
        log = Path(tempfile.mkdtemp(prefix="mmed-server-")) / "uvicorn.log"
    server_env = {
        **os.environ,
        "MMED_MODEL_REPOSITORY": str(repository),
        "MMED_API_KEYS": api_keys,
        "MMED_BACKEND": "embedded",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **(env or {}),
    }
    args = ["--log-level", log_level] + ([] if access_log else ["--no-access-log"])
    proc = spawn(port, server_env, log, args)
    try:
        wait_ready(proc, url, log, start_timeout_s)
        yield LocalServer(url, proc, log)
    finally:
        stop_process(proc)
