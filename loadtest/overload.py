"""Overload run: several times the knee's load, then a health check without a restart.

Pass conditions (each reported): no failed request (no 500, no other 5xx, no 429/503 without
Retry-After, no wrong body); load beyond capacity is shed with 429/503 + Retry-After; the
accepted requests' p99 stays within a bound; the gateway's peak RSS stays under a ceiling;
after the load stops the same gateway process is healthy, ready and answers a prediction
correctly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from loadtest.checks import judge_predict
from loadtest.gateway import MemoryWatch, rss_bytes
from loadtest.locust_run import LocustResult, TaskStats, run_locust
from loadtest.media import make_media
from loadtest.names import IMAGE_UPLOADS

MIB = 1024 * 1024


@dataclass
class Recovery:
    healthy: bool
    seconds_to_ready: float | None
    predict_ok: bool
    same_process: bool | None  # None: the gateway was not started here (no pid to compare)
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.healthy and self.predict_ok and self.same_process is not False


@dataclass
class OverloadResult:
    users: int
    pace: float
    duration_s: float
    stats: TaskStats
    run: LocustResult
    rss_before: int | None
    rss_peak: int | None
    rss_after: int | None
    rss_ceiling: int
    p99_bound_ms: float
    recovery: Recovery
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    @property
    def offered_rps(self) -> float:
        return self.users * self.pace

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.checks)


def check_recovery(
    host: str, api_key: str, pid: int | None, created: float | None, timeout_s: float = 60.0
) -> Recovery:
    """Wait for /healthz and /readyz, then one checked prediction; same process as before?"""
    headers = {"X-API-Key": api_key} if api_key else {}
    started = time.monotonic()
    ready_after = None
    with httpx.Client(base_url=host, timeout=60, headers=headers) as client:
        while time.monotonic() - started < timeout_s:
            try:
                if (
                    client.get("/healthz").status_code == 200
                    and client.get("/readyz").status_code == 200
                ):
                    ready_after = time.monotonic() - started
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        if ready_after is None:
            return Recovery(False, None, False, None, f"not ready within {timeout_s:.0f} s")
        image = make_media()["micro"]
        response = client.post(
            "/v1/predict",
            params={"task": "micro"},
            files={"file": (image.filename, image.data, image.content_type)},
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        verdict, problems = judge_predict(
            response.status_code, response.headers, body, image.upload("micro")
        )
    same = None
    if pid is not None:
        try:
            same = psutil.Process(pid).create_time() == created
        except psutil.Error:
            same = False
    detail = "; ".join(problems) if verdict != "ok" else f"HTTP {response.status_code}"
    return Recovery(True, ready_after, verdict == "ok", same, detail)


def run_overload(
    host: str,
    out_dir: Path,
    users: int,
    pace: float,
    duration_s: float,
    p99_bound_ms: float,
    rss_ceiling_mb: float,
    gateway_pid: int | None = None,
    api_key: str = "",
) -> OverloadResult:
    created = psutil.Process(gateway_pid).create_time() if gateway_pid else None
    rss_before = rss_bytes(gateway_pid) if gateway_pid else None
    extra = ("--pace", str(pace))
    if gateway_pid:
        with MemoryWatch(gateway_pid) as watch:
            run = run_locust(
                host, out_dir, "overload", users, duration_s, ("ImageUser",), api_key, extra
            )
        rss_peak = watch.peak
    else:
        run = run_locust(
            host, out_dir, "overload", users, duration_s, ("ImageUser",), api_key, extra
        )
        rss_peak = None
    recovery = check_recovery(host, api_key, gateway_pid, created)
    rss_after = rss_bytes(gateway_pid) if gateway_pid else None
    stats = run.tasks(IMAGE_UPLOADS)[0]
    result = OverloadResult(
        users,
        pace,
        duration_s,
        stats,
        run,
        rss_before,
        rss_peak,
        rss_after,
        int(rss_ceiling_mb * MIB),
        p99_bound_ms,
        recovery,
    )
    result.checks = judge_overload(result)
    return result


def judge_overload(r: OverloadResult) -> list[tuple[str, bool, str]]:
    """(condition, held, evidence) for each pass condition of the overload run."""
    s = r.stats
    server_errors = {c: n for c, n in s.statuses.items() if c.startswith("5") and c != "503"}
    problems = "; ".join(f"{n}x {p}" for p, n in list(r.run.problems.items())[:3])
    checks = [
        (
            "no failed request (500, other 5xx, 429/503 without Retry-After, wrong body)",
            s.failed == 0 and not server_errors,
            f"{s.failed} failed; status codes "
            + ", ".join(f"{code}: {n}" for code, n in s.statuses.items())
            + (f"; {problems}" if problems else ""),
        ),
        (
            "excess load shed with 429/503 + Retry-After",
            s.shed > 0,
            f"{s.shed} shed ({s.shed_rps:.1f}/s), {s.ok} accepted ({s.ok_rps:.1f}/s)",
        ),
        (
            f"accepted p99 <= {r.p99_bound_ms:.0f} ms",
            s.p99_ms is not None and s.p99_ms <= r.p99_bound_ms,
            f"p99 {s.p99_ms:.0f} ms" if s.p99_ms is not None else "nothing accepted",
        ),
    ]
    if r.rss_peak is not None:
        checks.append(
            (
                f"gateway peak RSS <= {r.rss_ceiling / MIB:.0f} MiB",
                r.rss_peak <= r.rss_ceiling,
                f"peak {r.rss_peak / MIB:.0f} MiB (before {(r.rss_before or 0) / MIB:.0f} MiB)",
            )
        )
    rec = r.recovery
    checks.append(
        (
            "healthy after the load, without a restart",
            rec.ok,
            f"ready after {rec.seconds_to_ready:.1f} s, predict {rec.detail}, "
            f"same process: {rec.same_process}"
            if rec.seconds_to_ready is not None
            else rec.detail,
        )
    )
    return checks
