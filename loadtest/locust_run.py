"""One headless Locust run in a subprocess, and what it measured.

Locust runs in its own process (it monkey-patches the standard library with gevent), writes its
CSV stats and HTML report, its final stats as JSON, and the locustfile's check report. The
tables here are computed from the check report, which holds every request's verdict and exact
latency (Locust's own percentiles are rounded to two significant digits).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loadtest.gateway import REPO_ROOT
from loadtest.hosts import require_loopback

LOCUSTFILE = Path(__file__).resolve().with_name("locustfile.py")
VERDICTS = ("ok", "shed", "fail")


@dataclass(frozen=True)
class TaskStats:
    """One request name: counts by verdict, throughput and latency of the accepted ones."""

    name: str
    ok: int
    shed: int
    failed: int
    ok_rps: float
    shed_rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.ok + self.shed + self.failed


def percentiles(values: list[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    p50, p95, p99 = np.percentile(np.asarray(values), [50, 95, 99])
    return float(p50), float(p95), float(p99)


@dataclass
class LocustResult:
    """Paths, exit code, check report and Locust's own final stats of one run."""

    name: str
    users: int
    duration_s: float
    exit_code: int
    report: dict[str, Any]
    locust_stats: list[dict[str, Any]]
    paths: dict[str, Path]
    wall_s: float

    @property
    def window_s(self) -> float:
        """Seconds from the first request's start to the last one's end (>= 1 ms)."""
        return max(float(self.report.get("window_s") or 0.0), 1e-3)

    def tasks(self, names: list[str] | None = None) -> list[TaskStats]:
        """Per-name stats; ``names`` merges those names into one row (order kept)."""
        lat = self.report.get("latencies_ms", {})
        verdicts = self.report.get("verdicts", {})
        statuses = self.report.get("statuses", {})
        keys = sorted(set(lat) | set(verdicts))
        groups = [(n, [n]) for n in keys] if names is None else [(" + ".join(names), names)]
        rows = []
        for label, members in groups:
            ok_lat = [x for m in members for x in lat.get(m, {}).get("ok", [])]
            counts = {v: sum(verdicts.get(m, {}).get(v, 0) for m in members) for v in VERDICTS}
            merged: dict[str, int] = {}
            for m in members:
                for code, n in statuses.get(m, {}).items():
                    merged[code] = merged.get(code, 0) + n
            p50, p95, p99 = percentiles(ok_lat)
            rows.append(
                TaskStats(
                    name=label,
                    ok=counts["ok"],
                    shed=counts["shed"],
                    failed=counts["fail"],
                    ok_rps=counts["ok"] / self.window_s,
                    shed_rps=counts["shed"] / self.window_s,
                    p50_ms=p50,
                    p95_ms=p95,
                    p99_ms=p99,
                    max_ms=max(ok_lat) if ok_lat else None,
                    statuses=dict(sorted(merged.items())),
                )
            )
        return rows

    @property
    def failures(self) -> int:
        return sum(v.get("fail", 0) for v in self.report.get("verdicts", {}).values())

    @property
    def problems(self) -> dict[str, int]:
        return self.report.get("problems", {})


def run_locust(
    host: str,
    out_dir: Path,
    name: str,
    users: int,
    duration_s: float,
    user_classes: tuple[str, ...] = ("GatewayUser",),
    api_key: str = "",
    extra_args: tuple[str, ...] = (),
    timeout_s: float | None = None,
) -> LocustResult:
    """Run Locust headless against ``host`` (loopback only) for ``duration_s`` with ``users``."""
    host = require_loopback(host)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / name
    paths = {
        "csv": Path(f"{prefix}_stats.csv"),
        "html": Path(f"{prefix}.html"),
        "json": Path(f"{prefix}_locust.json"),
        "checks": Path(f"{prefix}_checks.json"),
        "log": Path(f"{prefix}_locust.log"),
    }
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{max(1, round(duration_s))}s",
        "--stop-timeout",
        "30",
        "--csv",
        str(prefix),
        "--html",
        str(paths["html"]),
        "--json-file",
        str(paths["json"].with_suffix("")),
        "--check-report",
        str(paths["checks"]),
        "--only-summary",
        "--loglevel",
        "WARNING",
        *extra_args,
        *user_classes,
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    if api_key:
        env["MMED_LOADTEST_API_KEY"] = api_key  # not on the command line
    for stale in paths.values():
        stale.unlink(missing_ok=True)
    started = time.monotonic()
    with paths["log"].open("wb") as log:
        proc = subprocess.run(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout_s or duration_s + 120,
            check=False,
        )
    wall = time.monotonic() - started
    report = json.loads(paths["checks"].read_text()) if paths["checks"].exists() else {}
    stats = json.loads(paths["json"].read_text()) if paths["json"].exists() else []
    if not report:
        tail = "\n".join(paths["log"].read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(
            f"locust run {name!r} wrote no check report (exit {proc.returncode}):\n{tail}"
        )
    return LocustResult(name, users, duration_s, proc.returncode, report, stats, paths, wall)


def format_table(rows: list[TaskStats]) -> str:
    """A plain-text table: requests/s, p50/p95/p99 of accepted requests, shed and failures."""
    header = (
        "task",
        "ok",
        "ok req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "shed",
        "shed req/s",
        "failed",
    )
    lines = [header]
    for r in rows:
        lines.append(
            (
                r.name,
                str(r.ok),
                f"{r.ok_rps:.2f}",
                _ms(r.p50_ms),
                _ms(r.p95_ms),
                _ms(r.p99_ms),
                str(r.shed),
                f"{r.shed_rps:.2f}",
                str(r.failed),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for i, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
