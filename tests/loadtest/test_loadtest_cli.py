"""``python -m loadtest`` end to end in miniature: every phase against a running gateway, the
report section written into an existing document, the summary on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from loadtest_helpers import API_KEY

from loadtest.gateway import REPO_ROOT, GatewayProcess
from loadtest.report import BEGIN, END

pytestmark = pytest.mark.slow  # every load-test phase against a live gateway


def test_all_phases_in_miniature(gateway: GatewayProcess, tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Inference\n\nkept as it is\n")
    results = tmp_path / "results"
    args = [
        *("--host", gateway.url, "--gateway-pid", str(gateway.pid), "--api-key", API_KEY),
        *("--users", "2", "--duration", "4", "--think-s", "0.3"),
        # 1 user, then 64 paced at 10 req/s: the second step cannot be sustained.
        *("--pace", "10", "--steps", "1,64", "--step-duration", "4", "--p99-target-ms", "5000"),
        "--no-refine",
        # 8 users at 10 req/s each is more than the 4 processing slots: load must be shed.
        *("--overload-factor", "8", "--overload-duration", "5"),
        *("--overload-p99-bound-ms", "15000", "--rss-ceiling-mb", "4096"),
        *("--results", str(results), "--doc", str(doc)),
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "loadtest", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "== capacity finder" in proc.stdout and "[ok] healthy after the load" in proc.stdout

    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\n## Inference\n\nkept as it is\n")
    section = text[text.index(BEGIN) : text.index(END)]
    for heading in ("## Load test (Locust)", "### Mixed workload", "### Capacity", "### Overload"):
        assert heading in section
    assert "- Commit: `" in section and "- Machine: " in section
    assert "**Knee: " in section and "| no: " in section  # the unsustainable step

    summary = json.loads((results / "summary.json").read_text())
    steps = summary["capacity"]["steps"]
    # 1 user at 10 req/s may or may not keep up (closed loop); 64 users never do.
    assert [s["users"] for s in steps] in ([1], [1, 64])
    overload = summary["overload"]
    assert overload["users"] == 8 * (summary["capacity"]["knee_users"] or 1)
    assert overload["stats"]["shed"] > 0 and overload["stats"]["failed"] == 0
    assert all(held for _, held, _ in overload["checks"])
    rss_before, rss_peak, _ = overload["rss"]
    assert 0 < rss_before <= rss_peak
    for name in ("mixed", *(f"capacity_u{s['users']:03d}" for s in steps), "overload"):
        assert (results / f"{name}_stats.csv").exists() and (results / f"{name}.html").exists()
