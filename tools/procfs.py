"""Linux ``/proc`` readings shared by the tests, the load test and the benchmarks."""

from __future__ import annotations

import platform
from pathlib import Path


def status_bytes(field: str, pid: int | str = "self") -> int:
    """A memory field of ``/proc/<pid>/status`` (VmRSS, VmHWM, ...) in bytes; KeyError if absent."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (the platform's guess elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
