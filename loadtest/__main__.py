"""``python -m loadtest`` (``make loadtest``): mixed run, capacity finder, overload run, report.

Starts the gateway (embedded backend, 127.0.0.1, a free port) unless ``--host`` names one, runs
Locust headless for bounded times and user counts, prints summary tables, writes CSV/HTML/JSON
under ``loadtest/results/`` and the load-test section of ``docs/benchmarks.md``. Exits 1 when a
request failed or an overload condition did not hold.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
from dataclasses import asdict
from pathlib import Path

import httpx

from loadtest.capacity import Criteria, run_capacity
from loadtest.gateway import REPO_ROOT, CpuAccount, CpuShares, GatewayProcess
from loadtest.hosts import require_loopback
from loadtest.locust_run import format_table, run_locust
from loadtest.overload import run_overload
from loadtest.report import RunInfo, render, write_section
from model_artifact import ModelRepository

PHASES = ("mixed", "capacity", "overload")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__.split("\n")[0])
    p.add_argument("--host", help="gateway base URL (loopback only); default: start one here")
    p.add_argument(
        "--gateway-pid", type=int, help="with --host: the gateway's pid, to measure its RSS"
    )
    p.add_argument(
        "--repository",
        type=Path,
        default=Path(os.environ.get("MMED_MODEL_REPOSITORY", REPO_ROOT / "model_repository")),
        help="model repository for the gateway started here (default: MMED_MODEL_REPOSITORY "
        "or model_repository/)",
    )
    p.add_argument(
        "--api-key",
        default=os.environ.get("MMED_LOADTEST_API_KEY", ""),
        help="X-API-Key to send (default MMED_LOADTEST_API_KEY); a gateway started here "
        "then requires it",
    )
    p.add_argument("--max-concurrency", type=int, help="MMED_MAX_CONCURRENCY of a started gateway")
    p.add_argument(
        "--phases", default=",".join(PHASES), help="comma-separated subset of %(default)s"
    )
    p.add_argument("--users", type=int, default=4, help="mixed run: users (default 4)")
    p.add_argument("--duration", type=float, default=45, help="mixed run: seconds (default 45)")
    p.add_argument("--think-s", type=float, default=1.0, help="mixed run: mean think time (s)")
    p.add_argument("--pace", type=float, default=2.0, help="image users: req/s each (default 2)")
    p.add_argument(
        "--steps",
        default="2,4,6,8,10,12,14,16,20,24,32",
        help="capacity: user counts to step through (default %(default)s)",
    )
    p.add_argument("--step-duration", type=float, default=15, help="capacity: seconds per step")
    p.add_argument("--p99-target-ms", type=float, default=1000, help="capacity: p99 target")
    p.add_argument("--max-shed-ratio", type=float, default=0.01, help="capacity: shed allowed")
    p.add_argument(
        "--no-refine",
        action="store_true",
        help="capacity: no bisection after the first unsustainable step",
    )
    p.add_argument("--knee-users", type=int, help="overload only: the knee's users (skip finder)")
    p.add_argument("--overload-factor", type=float, default=3.0, help="overload: x knee load")
    p.add_argument("--overload-duration", type=float, default=40, help="overload: seconds")
    p.add_argument(
        "--overload-p99-bound-ms", type=float, default=3000, help="overload: accepted p99 bound"
    )
    p.add_argument(
        "--rss-ceiling-mb", type=float, default=1536, help="overload: gateway RSS ceiling (MiB)"
    )
    p.add_argument("--results", type=Path, default=REPO_ROOT / "loadtest" / "results")
    p.add_argument("--doc", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    p.add_argument("--no-doc", action="store_true", help="do not touch docs/benchmarks.md")
    args = p.parse_args(argv)
    args.phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        p.error(f"unknown phases {sorted(unknown)}; choose from {PHASES}")
    if "overload" in args.phases and "capacity" not in args.phases and not args.knee_users:
        p.error("--phases overload without capacity needs --knee-users")
    return args


def missing_defaults(repository: Path) -> list[str]:
    """Default models (``MMED_DEFAULT_*_MODEL``) the repository lacks."""
    names = set(ModelRepository(repository).model_names()) if repository.is_dir() else set()
    defaults = [
        os.environ.get("MMED_DEFAULT_MICRO_MODEL", "micro-cnn"),
        os.environ.get("MMED_DEFAULT_MASKED_MODEL", "masked-cnn"),
    ]
    return [name for name in defaults if name not in names]


def catalogue_setup(host: str, api_key: str) -> dict[str, str]:
    """The default models the gateway serves, for the report."""
    headers = {"X-API-Key": api_key} if api_key else {}
    body = httpx.get(f"{host}/v1/models", headers=headers, timeout=30).json()
    models = [
        f"{m['name']} v{m['version']} ({m['arch']}, {m['input']['height']}x{m['input']['width']},"
        f" trained on {m['training']['dataset']})"
        for m in body["models"]
        if m.get("default_for_task")
    ]
    return {"Default models": "; ".join(models)}


def results_label(results: Path) -> str:
    """How the report names the results folder (relative inside the repository)."""
    try:
        return f"`{results.resolve().relative_to(REPO_ROOT)}/` (git-ignored)"
    except ValueError:
        return f"`{results}/`"


def start_gateway(args: argparse.Namespace, results: Path) -> tuple[GatewayProcess, str]:
    """A gateway started here over ``--repository``, and its line for the report's setup."""
    env = {}
    if args.api_key:
        env["MMED_API_KEYS"] = args.api_key
    if args.max_concurrency:
        env["MMED_MAX_CONCURRENCY"] = str(args.max_concurrency)
    gateway = GatewayProcess(args.repository.resolve(), results / "gateway.log", env)
    print(f"starting the gateway over {args.repository} ...", flush=True)
    host = gateway.start()
    concurrency = args.max_concurrency or "4 (default)"
    try:
        repo = args.repository.resolve().relative_to(REPO_ROOT)
    except ValueError:
        repo = args.repository
    return gateway, (
        f"`uvicorn service.app:app` (1 process), embedded TensorFlow backend, "
        f"repository `{repo}`, MMED_MAX_CONCURRENCY={concurrency}, on {host}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "python -m loadtest " + shlex.join(argv if argv is not None else sys.argv[1:])
    info = RunInfo.collect(command.strip())
    results: Path = args.results
    results.mkdir(parents=True, exist_ok=True)
    gateway: GatewayProcess | None = None
    setup: dict[str, str] = {}
    if args.host:
        host = require_loopback(args.host)
        pid = args.gateway_pid
        setup["Gateway"] = f"given by --host ({host})"
    else:
        if missing := missing_defaults(args.repository):
            print(
                f"{args.repository} lacks the default models {missing}: train them (make models)"
                " or pass --repository / MMED_MODEL_REPOSITORY",
                file=sys.stderr,
            )
            return 2
        gateway, setup["Gateway"] = start_gateway(args, results)
        host, pid = gateway.url, gateway.pid
    failed = False
    summary: dict[str, object] = {"info": asdict(info)}
    mixed = capacity = overload = None
    cpu: dict[str, CpuShares] = {}
    try:
        setup.update(catalogue_setup(host, args.api_key))
        if "mixed" in args.phases:
            print(f"\n== mixed workload: {args.users} users, {args.duration:.0f} s", flush=True)
            account = CpuAccount(pid)
            mixed = run_locust(
                host,
                results,
                "mixed",
                args.users,
                args.duration,
                ("GatewayUser",),
                args.api_key,
                ("--think-s", str(args.think_s)),
            )
            cpu["mixed run"] = account.finish()
            print(format_table(mixed.tasks()))
            failed |= mixed.failures > 0
            summary["mixed"] = [asdict(r) for r in mixed.tasks()]
        knee_users = args.knee_users
        if "capacity" in args.phases:
            steps = [int(x) for x in args.steps.split(",") if x.strip()]
            print(f"\n== capacity finder: image uploads, {args.pace:g} req/s per user", flush=True)
            account = CpuAccount(pid)
            capacity = run_capacity(
                host,
                results,
                steps,
                args.pace,
                args.step_duration,
                Criteria(args.p99_target_ms, args.max_shed_ratio),
                args.api_key,
                refine=not args.no_refine,
            )
            cpu["capacity finder"] = account.finish()
            knee = capacity.knee
            knee_users = knee.users if knee else steps[0]
            print(
                f"knee: {knee.stats.ok_rps:.1f} image uploads/s at {knee.users} users"
                if knee
                else "knee: none (the first step was not sustainable)"
            )
            summary["capacity"] = {
                "steps": [asdict(s) for s in capacity.steps],
                "knee_users": knee.users if knee else None,
            }
        if "overload" in args.phases:
            users = max(1, math.ceil(args.overload_factor * knee_users))
            print(
                f"\n== overload: {users} users ({args.overload_factor:g}x the knee's"
                f" {knee_users}), {args.overload_duration:.0f} s",
                flush=True,
            )
            account = CpuAccount(pid)
            overload = run_overload(
                host,
                results,
                users,
                args.pace,
                args.overload_duration,
                args.overload_p99_bound_ms,
                args.rss_ceiling_mb,
                pid,
                args.api_key,
            )
            cpu["overload run"] = account.finish()
            print(format_table(overload.run.tasks()))
            for name, held, evidence in overload.checks:
                print(f"  [{'ok' if held else 'FAIL'}] {name}: {evidence}")
            failed |= not overload.passed
            summary["overload"] = {
                "users": users,
                "checks": overload.checks,
                "stats": asdict(overload.stats),
                "rss": [overload.rss_before, overload.rss_peak, overload.rss_after],
            }
        if capacity is not None:
            failed |= any(s.stats.failed for s in capacity.steps)
    finally:
        if gateway is not None:
            gateway.stop()
    summary["cpu"] = {k: asdict(v) for k, v in cpu.items()}
    (results / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    if not args.no_doc:
        shown_results = results_label(results)
        write_section(
            args.doc,
            render(info, setup, mixed, capacity, overload, cpu, args.think_s, shown_results),
        )
        print(f"\nwrote the load-test section of {args.doc}")
    print(f"results in {results}" + ("  — FAILED" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
