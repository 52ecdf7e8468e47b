"""The gateway under test: start it (embedded backend, loopback only), watch its memory and CPU."""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tools.local_server import free_port, spawn, stop_process, wait_ready

REPO_ROOT = Path(__file__).resolve().parents[1]


class GatewayError(RuntimeError):
    """The gateway did not come up (or went away)."""


@dataclass
class GatewayProcess:
    """``uvicorn service.app:app`` on 127.0.0.1 with the embedded TensorFlow backend."""

    repository: Path
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise GatewayError("gateway not started")
        return self.proc.pid

    def start(self, timeout_s: float = 240.0) -> str:
        """Start and wait until ``/readyz`` answers 200; returns the base URL."""
        self.port = self.port or free_port()
        env = {
            **os.environ,
            "MMED_BACKEND": "embedded",
            "MMED_MODEL_REPOSITORY": str(self.repository),
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **self.env,
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = spawn(self.port, env, self.log_path, ["--timeout-graceful-shutdown", "10"])
        try:
            wait_ready(self.proc, self.url, self.log_path, timeout_s)
        except RuntimeError as exc:
            self.stop()
            raise GatewayError(str(exc)) from exc
        return self.url

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, grace_s=30)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> GatewayProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and its children (0 once it is gone)."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


class MemoryWatch:
    """Samples a process's RSS in a background thread; ``peak`` and ``samples`` afterwards."""

    def __init__(self, pid: int, interval_s: float = 0.25) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-watch", daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - start, rss_bytes(self.pid)))
            self._stop.wait(self.interval_s)

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((self.samples[-1][0] if self.samples else 0.0, rss_bytes(self.pid)))


@dataclass(frozen=True)
class CpuShares:
    """Where the machine's CPU went during a phase, as fractions of all cores x wall time."""

    wall_s: float
    gateway: float
    locust: float
    others: float


class CpuAccount:
    """CPU used by the gateway, by Locust (reaped child processes) and by everything else.

    ``others`` > 0 means the machine was shared while the figures were taken.
    """

    def __init__(self, gateway_pid: int | None) -> None:
        self.gateway_pid = gateway_pid
        self._wall = time.monotonic()
        self._system = self._busy()
        self._gateway = self._gateway_cpu()
        self._children = self._children_cpu()

    @staticmethod
    def _busy() -> float:
        t = psutil.cpu_times()
        return sum(t) - t.idle - getattr(t, "iowait", 0.0)

    def _gateway_cpu(self) -> float:
        if self.gateway_pid is None:
            return 0.0
        try:
            t = psutil.Process(self.gateway_pid).cpu_times()
        except psutil.Error:
            return 0.0
        return t.user + t.system

    @staticmethod
    def _children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def finish(self) -> CpuShares:
        wall = time.monotonic() - self._wall
        capacity = max(wall, 1e-9) * (psutil.cpu_count() or 1)
        gateway = self._gateway_cpu() - self._gateway
        locust = self._children_cpu() - self._children
        busy = self._busy() - self._system
        others = max(0.0, busy - gateway - locust)
        return CpuShares(wall, gateway / capacity, locust / capacity, others / capacity)
