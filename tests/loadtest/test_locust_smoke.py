"""Locust smoke runs: a few users for a few seconds against a real gateway (zero failures, every
answer checked), and against a lying gateway (every kind of wrong answer is a failure)."""

from __future__ import annotations

import copy
import itertools
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from loadtest_helpers import API_KEY

from loadtest.gateway import REPO_ROOT, GatewayProcess
from loadtest.locust_run import LOCUSTFILE, LocustResult, run_locust
from loadtest.names import (
    IMAGE_UPLOADS,
    MODELS_LIST,
    MODELS_ONE,
    PREDICT_VIDEO,
    SHED_SUFFIX,
)

pytestmark = pytest.mark.slow  # Locust runs in subprocesses

ALL_NAMES = [*IMAGE_UPLOADS, PREDICT_VIDEO, MODELS_LIST, MODELS_ONE]


def locust_counts(result: LocustResult) -> dict[str, tuple[int, int]]:
    """Locust's own final (requests, failures) per name."""
    return {e["name"]: (e["num_requests"], e["num_failures"]) for e in result.locust_stats}


def test_smoke_run_has_no_failures_and_checks_every_answer(
    gateway: GatewayProcess, tmp_path: Path
) -> None:
    result = run_locust(
        gateway.url,
        tmp_path,
        "smoke",
        users=3,
        duration_s=15,
        user_classes=("GatewayUser", "RoundRobinUser"),
        api_key=API_KEY,
        extra_args=("--think-s", "0.5"),
    )
    assert result.failures == 0, result.problems
    assert result.exit_code == 0, result.paths["log"].read_text()[-3000:]
    verdicts = result.report["verdicts"]
    for name in ALL_NAMES:  # every request kind ran, and its body passed the check
        assert verdicts.get(name, {}).get("ok", 0) >= 1, (name, verdicts)
    # Every request Locust counted went through a check: no unchecked answer.
    counted = locust_counts(result)
    checked = {name: sum(v.values()) - v.get("shed", 0) for name, v in verdicts.items()} | {
        name + SHED_SUFFIX: v["shed"] for name, v in verdicts.items() if v.get("shed")
    }
    assert {n: c[0] for n, c in counted.items()} == checked
    assert all(failures == 0 for _, failures in counted.values())
    for kind in ("csv", "html"):
        assert result.paths[kind].stat().st_size > 0
    rows = {r.name: r for r in result.tasks()}
    assert rows[IMAGE_UPLOADS[0]].p99_ms is not None and rows[IMAGE_UPLOADS[0]].ok_rps > 0


class LyingGateway(BaseHTTPRequestHandler):
    """Answers like a broken gateway, cycling through the ways of being wrong."""

    real_answer: ClassVar[dict[str, Any]] = {}
    counter = itertools.count()
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _problem(self, status: int, headers: dict[str, str] | None = None) -> None:
        body = {"type": "about:blank", "title": "Error", "status": status, "detail": "lying"}
        problem = {"Content-Type": "application/problem+json", **(headers or {})}
        self._send(status, json.dumps(body).encode(), problem)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with self.lock:
            mode = next(self.counter) % 5
        if mode == 0:  # a well-formed 200 whose probabilities do not sum to 1
            body = copy.deepcopy(self.real_answer)
            for frame in body["frames"]:
                if frame["probabilities"]:
                    frame["probabilities"] = dict.fromkeys(frame["probabilities"], 0.9)
            self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})
        elif mode == 1:
            self._problem(500)
        elif mode == 2:
            self._problem(503)  # no Retry-After
        elif mode == 3:
            self._problem(503, {"Retry-After": "1"})  # correct shedding
        else:
            self._send(200, b"<html>ok</html>", {"Content-Type": "text/html"})

    def do_GET(self) -> None:
        body = {"models": []} if self.path.endswith("/v1/models") else {"name": "micro-cnn"}
        self._send(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


@pytest.fixture
def lying_gateway(real_answers: dict[str, Any]) -> Iterator[str]:
    LyingGateway.real_answer = real_answers["micro"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), LyingGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_wrong_answers_are_failures(lying_gateway: str, tmp_path: Path) -> None:
    result = run_locust(
        lying_gateway,
        tmp_path,
        "lying",
        users=2,
        duration_s=6,
        user_classes=("RoundRobinUser",),
        extra_args=("--think-s", "0.1"),
    )
    verdicts = result.report["verdicts"]
    for name in ALL_NAMES:
        assert verdicts.get(name, {}).get("fail", 0) >= 1, (name, verdicts)
    problems = " | ".join(result.problems)
    for fragment in (
        "sum to",  # a 200 with a wrong body
        "HTTP 500",
        "503 without Retry-After",
        "body is not JSON",
        "no default model",
        "schema",
    ):
        assert fragment in problems, (fragment, problems)
    # Correct shedding (503 + Retry-After) is counted apart, never as a failure.
    assert sum(v.get("shed", 0) for v in verdicts.values()) >= 1
    counted = locust_counts(result)
    for name, v in verdicts.items():
        assert counted[name][1] == v.get("fail", 0)
        if v.get("shed"):
            assert counted[name + SHED_SUFFIX] == (v["shed"], 0)
    assert result.exit_code != 0  # Locust itself reports the failures


def test_locustfile_refuses_a_non_loopback_host(tmp_path: Path) -> None:
    report = tmp_path / "checks.json"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"),
            *("--host", "http://example.invalid:8000", "-u", "1", "-t", "3s"),
            *("--check-report", str(report), "GatewayUser"),
        ],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "only loopback targets" in proc.stderr
    assert not report.exists()
