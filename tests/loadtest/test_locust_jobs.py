"""The Locust job scenario (``JobUser``) against a real gateway: zero failures, every step ran."""

from __future__ import annotations

from pathlib import Path

import pytest
from loadtest_helpers import API_KEY

from loadtest.gateway import GatewayProcess
from loadtest.locust_run import run_locust
from loadtest.names import JOB_NAMES

pytestmark = pytest.mark.slow  # `make test` runs it; `make test-fast` leaves it out


def test_job_scenario_submits_follows_reads_and_deletes(
    gateway: GatewayProcess, tmp_path: Path
) -> None:
    result = run_locust(
        gateway.url,
        tmp_path,
        "jobs",
        users=2,
        duration_s=15,
        user_classes=("JobUser",),
        api_key=API_KEY,
    )
    assert result.failures == 0, result.problems
    assert result.exit_code == 0, result.paths["log"].read_text()[-3000:]
    verdicts = result.report["verdicts"]
    for name in JOB_NAMES:
        assert verdicts.get(name, {}).get("ok", 0) >= 1, (name, verdicts)
        assert verdicts[name].get("fail", 0) == 0, (name, verdicts)
