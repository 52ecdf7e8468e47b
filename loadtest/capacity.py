"""Capacity finder: step the number of paced image-upload users until the service stops keeping up.

Each step runs ``ImageUser`` users at ``pace`` requests/s each (offered load = users x pace) for
a fixed time. A step is sustainable when no request failed, at most ``max_shed_ratio`` of the
requests were shed (429/503), the accepted requests' p99 stayed within ``p99_target_ms`` and the
service answered at least ``min_keep_up`` of the offered load. The knee is the sustainable
step with the highest accepted requests/s; stepping stops at the first unsustainable step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loadtest.locust_run import TaskStats, run_locust
from loadtest.names import IMAGE_UPLOADS


@dataclass(frozen=True)
class Criteria:
    p99_target_ms: float = 1000.0
    max_shed_ratio: float = 0.01
    min_keep_up: float = 0.9


@dataclass(frozen=True)
class Step:
    users: int
    offered_rps: float
    stats: TaskStats
    reasons: list[str] = field(default_factory=list)

    @property
    def sustainable(self) -> bool:
        return not self.reasons


def judge_step(users: int, pace: float, stats: TaskStats, criteria: Criteria) -> Step:
    """Why this step is not sustainable (no reasons: it is)."""
    offered = users * pace
    reasons = []
    if stats.failed:
        reasons.append(f"{stats.failed} failed requests")
    answered = stats.ok + stats.shed
    if answered and stats.shed / answered > criteria.max_shed_ratio:
        reasons.append(f"{stats.shed / answered:.0%} shed")
    if stats.p99_ms is None:
        reasons.append("no accepted request")
    elif stats.p99_ms > criteria.p99_target_ms:
        reasons.append(f"p99 {stats.p99_ms:.0f} ms > {criteria.p99_target_ms:.0f} ms")
    if stats.ok_rps < criteria.min_keep_up * offered:
        reasons.append(f"answered {stats.ok_rps:.1f} of {offered:.1f} req/s offered")
    return Step(users, offered, stats, reasons)


def find_knee(steps: list[Step]) -> Step | None:
    """The sustainable step with the most accepted requests/s, or None."""
    good = [s for s in steps if s.sustainable]
    return max(good, key=lambda s: s.stats.ok_rps, default=None)


@dataclass
class CapacityResult:
    pace: float
    step_s: float
    criteria: Criteria
    steps: list[Step]

    @property
    def knee(self) -> Step | None:
        return find_knee(self.steps)


def run_capacity(
    host: str,
    out_dir: Path,
    user_steps: list[int],
    pace: float,
    step_s: float,
    criteria: Criteria,
    api_key: str = "",
    log=print,
) -> CapacityResult:
    """Run the steps in order until one is not sustainable."""
    result = CapacityResult(pace, step_s, criteria, [])
    for users in user_steps:
        run = run_locust(
            host,
            out_dir,
            f"capacity_u{users:03d}",
            users,
            step_s,
            ("ImageUser",),
            api_key=api_key,
            extra_args=("--pace", str(pace)),
        )
        step = judge_step(users, pace, run.tasks(IMAGE_UPLOADS)[0], criteria)
        result.steps.append(step)
        s = step.stats
        log(
            f"  {users:3d} users, offered {step.offered_rps:5.1f} req/s: "
            f"ok {s.ok_rps:5.1f} req/s, p50/p95/p99 {_ms(s.p50_ms)}/{_ms(s.p95_ms)}/"
            f"{_ms(s.p99_ms)} ms, shed {s.shed}, failed {s.failed}"
            + (f"  -> not sustainable: {'; '.join(step.reasons)}" if step.reasons else "")
        )
        if not step.sustainable:
            break
    return result


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
