"""Capacity finder: step the number of paced image-upload users until the service stops keeping up.

Each step runs ``ImageUser`` users at ``pace`` requests/s each (offered load = users x pace) for
a fixed time. A step is sustainable when no request failed, at most ``max_shed_ratio`` of the
requests were shed (429/503), the accepted requests' p99 stayed within ``p99_target_ms`` and the
service answered at least ``min_keep_up`` of the offered load. The knee is the sustainable
step with the highest accepted requests/s. Stepping stops at the first unsustainable step; the
user count is then bisected between it and the last sustainable one.
"""

from __future__ import annotations

from collections.abc import Callable
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
    refine: bool = True,
    log: Callable[[str], object] = print,
) -> CapacityResult:
    """Run the steps in order until one is not sustainable; with ``refine``, then bisect the
    user count between the last sustainable step and that one (one user's resolution)."""
    result = CapacityResult(pace, step_s, criteria, [])

    def step(users: int) -> Step:
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
        judged = judge_step(users, pace, run.tasks(IMAGE_UPLOADS)[0], criteria)
        result.steps.append(judged)
        s = judged.stats
        log(
            f"  {users:3d} users, offered {judged.offered_rps:5.1f} req/s: "
            f"ok {s.ok_rps:5.1f} req/s, p50/p95/p99 {_ms(s.p50_ms)}/{_ms(s.p95_ms)}/"
            f"{_ms(s.p99_ms)} ms, shed {s.shed}, failed {s.failed}"
            + (f"  -> not sustainable: {'; '.join(judged.reasons)}" if judged.reasons else "")
        )
        return judged

    search_users(user_steps, lambda users: step(users).sustainable, refine)
    result.steps.sort(key=lambda s: s.users)
    return result


def search_users(
    user_steps: list[int], sustainable: Callable[[int], bool], refine: bool = True
) -> int | None:
    """Try ``user_steps`` in order until one is not sustainable, then (``refine``) bisect
    between the last sustainable count and that one. Returns the highest sustainable count."""
    good, bad = None, None
    for users in user_steps:
        if not sustainable(users):
            bad = users
            break
        good = users
    while refine and good is not None and bad is not None and bad - good > 1:
        middle = (good + bad) // 2
        if sustainable(middle):
            good = middle
        else:
            bad = middle
    return good


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
