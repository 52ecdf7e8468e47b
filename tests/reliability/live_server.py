"""A real gateway process (``python -m uvicorn service.app:app``) for tests that need real
sockets, real multipart spooling, signals and per-process memory figures."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tools.local_server import free_port, spawn, wait_ready
from tools.procfs import status_bytes

# The shared live gateway's API key: random per run, so finding it in a log means a leak.
API_KEY = "mmed-" + secrets.token_urlsafe(24)
MAX_UPLOAD_MB = 8


def open_files_under(pid: int, directory: Path) -> list[str]:
    """Targets of the process's open file descriptors that lie in ``directory``."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith(str(directory) + "/"):
            found.append(target)
    return found


@dataclass
class LiveServer:
    """A started gateway; ``tmp`` is its TMPDIR (the private upload dir is made inside it)."""

    process: subprocess.Popen
    port: int
    tmp: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def upload_dirs(self) -> list[Path]:
        return sorted(self.tmp.glob("mmed-uploads-*"))

    @property
    def upload_dir(self) -> Path:
        dirs = self.upload_dirs()
        assert len(dirs) == 1, f"expected one private upload dir in {self.tmp}: {dirs}"
        return dirs[0]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rss(self) -> int:
        return status_bytes("VmRSS", self.pid)

    def peak_rss(self) -> int:
        return status_bytes("VmHWM", self.pid)

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def start_server(
    repository: Path,
    workdir: Path,
    *,
    graceful_s: int = 20,
    startup_s: float = 90,
    **settings: object,
) -> LiveServer:
    """Start the gateway on a free port over ``repository``; wait until /readyz says ready.

    ``settings`` become ``MMED_<NAME>`` variables. TMPDIR is ``workdir/tmp`` so the test can
    see every file the process writes there.
    """
    tmp = workdir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "MMED_MODEL_REPOSITORY": str(repository),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.update({f"MMED_{k.upper()}": str(v) for k, v in settings.items()})
    log_path = workdir / f"server-{port}.log"
    process = spawn(port, env, log_path, ["--timeout-graceful-shutdown", str(graceful_s)])
    server = LiveServer(process, port, tmp, log_path, env)
    try:
        wait_ready(process, server.url, log_path, startup_s)
    except RuntimeError:
        server.stop()
        raise
    return server


def assert_nothing_left(server: LiveServer, within_s: float = 2.0) -> None:
    """The private upload dir is empty and the process holds no file in TMPDIR."""
    deadline = time.monotonic() + within_s
    while True:
        files = list(server.upload_dir.iterdir())
        open_files = open_files_under(server.pid, server.tmp)
        others = [p for p in server.tmp.iterdir() if p != server.upload_dir]
        if not (files or open_files or others):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"left behind: files {files}, open {open_files}, others {others}")
        time.sleep(0.05)
