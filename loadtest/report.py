"""The load-test section of docs/benchmarks.md: which run, which commit, which machine, figures.

Only the text between ``<!-- loadtest:begin -->`` and ``<!-- loadtest:end -->`` is ours; the
rest of the file belongs to the other benchmarks and is kept as it is.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import psutil

from loadtest.capacity import CapacityResult
from loadtest.gateway import REPO_ROOT, CpuShares
from loadtest.locust_run import LocustResult, TaskStats
from loadtest.overload import MIB, OverloadResult
from tools.procfs import cpu_model

BEGIN = "<!-- loadtest:begin -->"
END = "<!-- loadtest:end -->"
HEADING = "## Load test (Locust)"


def replace_section(document: str, section: str) -> str:
    """``document`` with the marked section replaced by ``section`` (appended if absent)."""
    block = f"{BEGIN}\n{section.strip()}\n{END}"
    start, end = document.find(BEGIN), document.find(END)
    if start != -1 and end > start:
        return document[:start] + block + document[end + len(END) :]
    if not document.strip():
        return f"# Benchmarks\n\n{block}\n"
    return document.rstrip("\n") + "\n\n" + block + "\n"


def write_section(path: Path, section: str) -> None:
    old = path.read_text() if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(old, section))


@dataclass(frozen=True)
class RunInfo:
    """Which run, which commit, which machine."""

    command: str
    started: str
    commit: str
    dirty: list[str]
    cpu: str
    cores: int
    memory_gib: float
    system: str
    python: str
    packages: dict[str, str]
    load_before: tuple[float, float, float]

    @classmethod
    def collect(cls, command: str) -> RunInfo:
        return cls(
            command=command,
            started=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            commit=_git("rev-parse", "--short=12", "HEAD") or "unknown",
            dirty=[
                line[3:]
                for line in _git(
                    "status", "--porcelain", "--", "service", "model_artifact", "loadtest", "tools"
                ).splitlines()
                if line.strip()
            ],
            cpu=cpu_model(),
            cores=psutil.cpu_count() or 0,
            memory_gib=psutil.virtual_memory().total / 2**30,
            system=f"{platform.system()} {platform.release()}",
            python=platform.python_version(),
            packages={p: _version(p) for p in ("locust", "tensorflow", "fastapi", "uvicorn")},
            load_before=os.getloadavg(),
        )


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def task_table(rows: list[TaskStats]) -> list[str]:
    lines = [
        "| task | accepted | accepted req/s | p50 ms | p95 ms | p99 ms | shed (503/429) | failed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.ok} | {r.ok_rps:.2f} | {_ms(r.p50_ms)} | {_ms(r.p95_ms)} "
            f"| {_ms(r.p99_ms)} | {r.shed} | {r.failed} |"
        )
    return lines


def _cpu_line(label: str, shares: CpuShares | None) -> str:
    if shares is None:
        return ""
    return (
        f"- CPU during the {label} ({shares.wall_s:.0f} s, share of all cores): gateway "
        f"{shares.gateway:.0%}, Locust {shares.locust:.0%}, other processes {shares.others:.0%}."
    )


def render(
    info: RunInfo,
    setup: dict[str, str],
    mixed: LocustResult | None,
    capacity: CapacityResult | None,
    overload: OverloadResult | None,
    cpu: dict[str, CpuShares],
    think_s: float = 1.0,
    results_dir: str = "`loadtest/results/`",
) -> str:
    """The markdown section (heading included)."""
    shared = any(s.others >= 0.05 for s in cpu.values())
    lines = [
        HEADING,
        "",
        f"Produced by `{info.command}` (what `make loadtest` runs) on {info.started}; raw CSV"
        f" stats, Locust HTML reports and check reports went to {results_dir}.",
        "",
        f"- Commit: `{info.commit}`"
        + (
            f" with uncommitted changes in {', '.join(f'`{p}`' for p in info.dirty[:6])}"
            + (" …" if len(info.dirty) > 6 else "")
            if info.dirty
            else " (clean work tree for service/, model_artifact/, loadtest/, tools/)"
        )
        + ".",
        f"- Machine: {info.cpu}, {info.cores} cores, {info.memory_gib:.0f} GiB, {info.system}, "
        f"Python {info.python}; " + ", ".join(f"{k} {v}" for k, v in info.packages.items()) + ".",
        f"- Load average before the run: {' / '.join(f'{x:.2f}' for x in info.load_before)}"
        " (1/5/15 min).",
    ]
    lines += [f"- {k}: {v}" for k, v in setup.items()]
    lines.append(
        "- The load generator (Locust, one process) runs on the same cores as the gateway."
        + (
            " **The machine was shared with other work during these runs** (see the CPU lines:"
            " other processes' share), so the figures are lower bounds for a quiet machine."
            if shared
            else ""
        )
    )
    lines += [x for x in (_cpu_line(k, v) for k, v in cpu.items()) if x]
    lines.append(
        "- Latencies are client-side (Locust), exact percentiles over every accepted request;"
        " req/s are over the span from the first request's start to the last one's end."
    )
    if mixed is not None:
        lines += [
            "",
            f"### Mixed workload ({mixed.users} users, {mixed.duration_s:.0f} s)",
            "",
            "`GatewayUser`: image upload micro (weight 6), image upload masked (3), 3 s video"
            f" upload (1), catalogue list (2) and model detail (1), think time"
            f" {0.5 * think_s:g}-{1.5 * think_s:g} s."
            " Every answer's body is checked.",
            "",
            *task_table(mixed.tasks()),
        ]
    if capacity is not None:
        c = capacity.criteria
        lines += [
            "",
            "### Capacity (image uploads)",
            "",
            f"`ImageUser` (image uploads, micro:masked 2:1), each user paced at {capacity.pace:g}"
            " req/s with the users' schedules spread evenly (a steady offered load, not bursts),"
            f" {capacity.step_s:.0f} s per step. A step is sustainable with no failed"
            f" request, ≤ {c.max_shed_ratio:.0%} shed, accepted p99 ≤ {c.p99_target_ms:.0f} ms"
            f" and ≥ {c.min_keep_up:.0%} of the offered load answered. The user count steps up"
            " until a step is not sustainable, then is bisected below it.",
            "",
            "| users | offered req/s | accepted req/s | p50 ms | p95 ms | p99 ms | shed | failed"
            " | sustainable |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for step in capacity.steps:
            s = step.stats
            lines.append(
                f"| {step.users} | {step.offered_rps:.1f} | {s.ok_rps:.1f} | {_ms(s.p50_ms)} "
                f"| {_ms(s.p95_ms)} | {_ms(s.p99_ms)} | {s.shed} | {s.failed} | "
                + ("yes" if step.sustainable else "no: " + "; ".join(step.reasons))
                + " |"
            )
        knee = capacity.knee
        lines.append("")
        if knee is None:
            lines.append("**Knee: none** — even the first step was not sustainable.")
        else:
            s = knee.stats
            lines.append(
                f"**Knee: {s.ok_rps:.1f} image uploads/s** ({knee.users} users, p50/p95/p99"
                f" {_ms(s.p50_ms)}/{_ms(s.p95_ms)}/{_ms(s.p99_ms)} ms) on this {info.cores}-core"
                " machine."
            )
    if overload is not None:
        o, s = overload, overload.stats
        answered = s.ok + s.shed
        lines += [
            "",
            f"### Overload ({o.users} users, {o.offered_rps:.0f} req/s offered,"
            f" {o.duration_s:.0f} s)",
            "",
            f"- Accepted {s.ok} ({s.ok_rps:.1f} req/s), shed {s.shed} ({s.shed_rps:.1f} req/s)"
            f" with 503/429 + Retry-After: accept/shed "
            + (f"{s.ok / answered:.0%} / {s.shed / answered:.0%}" if answered else "-")
            + f"; failed {s.failed}; status codes "
            + ", ".join(f"{code}: {n}" for code, n in s.statuses.items())
            + ".",
            f"- Accepted latency p50/p95/p99/max: {_ms(s.p50_ms)}/{_ms(s.p95_ms)}/"
            f"{_ms(s.p99_ms)}/{_ms(s.max_ms)} ms.",
        ]
        if o.rss_peak is not None:
            lines.append(
                f"- Gateway RSS: {(o.rss_before or 0) / MIB:.0f} MiB before, peak"
                f" {o.rss_peak / MIB:.0f} MiB, {(o.rss_after or 0) / MIB:.0f} MiB after"
                f" (ceiling {o.rss_ceiling / MIB:.0f} MiB)."
            )
        lines += ["", "| condition | held | evidence |", "| --- | --- | --- |"]
        for name, held, evidence in o.checks:
            lines.append(f"| {name} | {'yes' if held else '**NO**'} | {evidence} |")
    return "\n".join(lines)
