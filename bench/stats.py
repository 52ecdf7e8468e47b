"""Repeated timings summarised as median and spread."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def summary(values: list[float]) -> dict[str, Any]:
    """Median, min, max and relative spread ((max - min) / median) of repeated runs."""
    if not values:
        raise ValueError("no values")
    med = statistics.median(values)
    return {
        "median": med,
        "min": min(values),
        "max": max(values),
        "spread": (max(values) - min(values)) / med if med else 0.0,
        "n": len(values),
        "values": list(values),
    }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def repeat(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> tuple[dict[str, Any], Any]:
    """Summary of ``repeats`` timed calls after ``warmup`` untimed ones; and the last result."""
    out = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(repeats):
        seconds, out = timed(fn)
        times.append(seconds)
    return summary(times), out


def fmt_s(s: dict[str, Any] | None, unit: str = "s", digits: int = 3) -> str:
    """'0.123 s ±12 %' from a summary (median, spread)."""
    if not s:
        return "—"
    scale = {"s": 1.0, "ms": 1000.0}[unit]
    return f"{s['median'] * scale:.{digits}f} {unit} ±{s['spread'] * 50:.0f} %"
