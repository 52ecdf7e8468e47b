"""Locust workload for the MMED gateway (``POST /v1/predict``, ``GET /v1/models``).

Users:
- ``GatewayUser``: the mixed workload — image upload (micro), image upload (masked), a short
  video upload, catalogue reads — with think time (``--think-s``).
- ``RoundRobinUser``: the same requests, each in turn (short smoke runs cover every check).
- ``JobUser``: the job API: submit the short video as a job (every frame), poll it until it
  has finished, read and check its result (every frame, contiguous indices), delete it.
- ``ImageUser``: image uploads only (micro and masked), paced at ``--pace`` requests/s per
  user; the capacity finder and the overload run step its user count.

Inputs are generated from a real face photograph when Locust starts (``loadtest.media``).
Every answer is checked (``loadtest.checks``): a 200 with a wrong body is a failure; a 429/503
with Retry-After is shed load, reported under ``<name> [shed]`` and not as a failure; any other
status is a failure. ``--check-report PATH`` writes the per-request verdicts and latencies as
JSON at exit. The host must be a loopback address. API key: ``--api-key`` or
``MMED_LOADTEST_API_KEY``.

Run from the repository root: ``python -m locust -f loadtest/locustfile.py --host URL ...``.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, tag, task
from locust.env import Environment

from loadtest.checks import Verdict, check_model, check_models, judge_predict
from loadtest.hosts import NotLoopback, require_loopback
from loadtest.media import Media, make_media
from loadtest.names import (
    JOB_DELETE,
    JOB_RESULT,
    JOB_STATUS,
    JOB_SUBMIT,
    MODELS_LIST,
    MODELS_ONE,
    PREDICT_IMAGE_MASKED,
    PREDICT_IMAGE_MICRO,
    PREDICT_VIDEO,
    SHED_SUFFIX,
)

log = logging.getLogger("mmed.loadtest")


class Tally:
    """Every checked request: verdict, status and latency per name (the check report)."""

    def __init__(self) -> None:
        self.verdicts: dict[str, Counter[str]] = defaultdict(Counter)
        self.statuses: dict[str, Counter[str]] = defaultdict(Counter)
        self.latencies_ms: dict[str, dict[str, list[float]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self.problems: Counter[str] = Counter()
        self.first: float | None = None
        self.last: float | None = None

    def record(self, name: str, status: int, verdict: Verdict, problems: list[str]) -> None:
        self.verdicts[name][verdict] += 1
        self.statuses[name][str(status)] += 1
        for problem in problems[:3]:
            self.problems[f"{name}: {problem}"[:300]] += 1

    def timing(self, name: str, verdict: str, start: float, response_ms: float) -> None:
        self.latencies_ms[name][verdict].append(round(response_ms, 3))
        end = start + response_ms / 1000
        self.first = start if self.first is None else min(self.first, start)
        self.last = end if self.last is None else max(self.last, end)

    def as_json(self) -> dict[str, Any]:
        return {
            "verdicts": {k: dict(v) for k, v in self.verdicts.items()},
            "statuses": {k: dict(v) for k, v in self.statuses.items()},
            "latencies_ms": {k: dict(v) for k, v in self.latencies_ms.items()},
            "problems": dict(self.problems.most_common(50)),
            "window_s": (self.last - self.first) if self.first and self.last else 0.0,
        }


TALLY = Tally()
MEDIA: dict[str, Media] = {}
CATALOGUE: dict[str, Any] = {"defaults": {}, "names": []}


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument(
        "--api-key",
        default="",
        env_var="MMED_LOADTEST_API_KEY",
        is_secret=True,
        help="sent as X-API-Key (when the gateway has MMED_API_KEYS set)",
    )
    parser.add_argument(
        "--pace", type=float, default=2.0, help="ImageUser: requests/s per user (default 2)"
    )
    parser.add_argument(
        "--think-s",
        type=float,
        default=1.0,
        help="GatewayUser: mean think time between tasks, uniform in [0.5x, 1.5x] (default 1 s)",
    )
    parser.add_argument("--check-report", default="", help="write the check report (JSON) here")


def _refuse_non_loopback(environment: Environment) -> None:
    try:
        require_loopback(environment.host)
    except NotLoopback as exc:
        log.error("%s", exc)
        sys.exit(2)


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    if environment.host:  # also checked per user: a host given later (web UI) is caught there
        _refuse_non_loopback(environment)
    MEDIA.update(make_media())


@events.request.add_listener
def _on_request(
    name: str, response_time: float, exception: Any, start_time: float = 0.0, **_: Any
) -> None:
    if name.endswith(SHED_SUFFIX):
        TALLY.timing(name.removesuffix(SHED_SUFFIX), "shed", start_time, response_time)
    else:
        TALLY.timing(name, "fail" if exception else "ok", start_time, response_time)


@events.quitting.add_listener
def _write_report(environment: Environment, **_: Any) -> None:
    path = environment.parsed_options.check_report if environment.parsed_options else ""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(TALLY.as_json()))


def _body(response: Any) -> tuple[Any, str | None]:
    try:
        return response.json(), None
    except (ValueError, TypeError) as exc:
        return None, f"body is not JSON ({exc.__class__.__name__})"


class GatewayClient(FastHttpUser):
    """Shared request helpers; every response goes through a check."""

    abstract = True
    network_timeout = 120.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        try:
            require_loopback(self.host)
        except NotLoopback as exc:
            log.error("%s", exc)
            self.environment.runner.quit()
            raise
        options = self.environment.parsed_options
        key = options.api_key if options else ""
        self.auth = {"X-API-Key": key} if key else {}

    def predict(self, name: str, media: Media, task: str) -> None:
        with self.client.post(
            "/v1/predict",
            params={"task": task},
            files={"file": (media.filename, media.data, media.content_type)},
            headers=self.auth,
            name=name,
            catch_response=True,
        ) as response:
            if not response.status_code:
                TALLY.record(name, 0, "fail", [f"connection error: {response.error}"])
                response.failure(f"connection error: {response.error}")
                return
            body, not_json = _body(response)
            if not_json and response.status_code == 200:
                verdict, problems = "fail", [not_json]
            else:
                verdict, problems = judge_predict(
                    response.status_code,
                    response.headers,
                    body,
                    media.upload(task),
                    CATALOGUE["defaults"].get(task),
                )
            TALLY.record(name, response.status_code, verdict, problems)
            if verdict == "fail":
                response.failure("; ".join(problems[:3]))
            else:
                if verdict == "shed":
                    response.request_meta["name"] = name + SHED_SUFFIX
                response.success()

    def read_json(self, path: str, name: str, check: Any) -> Any:
        """GET ``path``; ``check(body)`` returns its problems. The body when it passed."""
        with self.client.get(path, headers=self.auth, name=name, catch_response=True) as response:
            body, not_json = _body(response)
            if response.status_code != 200:
                detail = body.get("detail") if isinstance(body, dict) else response.error
                problems = [f"HTTP {response.status_code}: {detail}"]
            else:
                problems = [not_json] if not_json else check(body)
            TALLY.record(name, response.status_code, "fail" if problems else "ok", problems)
            if problems:
                response.failure("; ".join(problems[:3]))
                return None
            response.success()
            return body

    def read_catalogue(self) -> None:
        def check(body: Any) -> list[str]:
            problems, defaults = check_models(body)
            if not problems:
                CATALOGUE["defaults"].update(defaults)
                CATALOGUE["names"] = sorted(m["name"] for m in body["models"])
            return problems

        self.read_json("/v1/models", MODELS_LIST, check)

    # The requests; the user classes below weight them (``tasks``).
    @tag("image")
    def image_micro(self) -> None:
        self.predict(PREDICT_IMAGE_MICRO, MEDIA["micro"], "micro")

    @tag("image")
    def image_masked(self) -> None:
        self.predict(PREDICT_IMAGE_MASKED, MEDIA["masked"], "masked")

    @tag("video")
    def video_micro(self) -> None:
        self.predict(PREDICT_VIDEO, MEDIA["video"], "micro")

    @tag("catalogue")
    def models(self) -> None:
        self.read_catalogue()

    @tag("catalogue")
    def model(self) -> None:
        name = random.choice(CATALOGUE["names"] or ["micro-cnn"])
        self.read_json(f"/v1/models/{name}", MODELS_ONE, lambda body: check_model(body, name))


class ThinkingClient(GatewayClient):
    """A client that reads the catalogue first and thinks ``--think-s`` (+-50 %) between tasks."""

    abstract = True

    def wait_time(self) -> float:
        return between(0.5 * self.think_s, 1.5 * self.think_s)(self)

    def on_start(self) -> None:
        super().on_start()
        self.think_s = self.environment.parsed_options.think_s
        self.read_catalogue()


class GatewayUser(ThinkingClient):
    """The mixed workload: mostly image uploads, some video, some catalogue reads."""

    tasks = {  # noqa: RUF012 (Locust's class attribute)
        GatewayClient.image_micro: 6,
        GatewayClient.image_masked: 3,
        GatewayClient.video_micro: 1,
        GatewayClient.models: 2,
        GatewayClient.model: 1,
    }


class RoundRobinUser(ThinkingClient):
    """Every ``GatewayUser`` request in turn, so a short (smoke) run exercises each check."""

    @task
    def every_request(self) -> None:
        for request in (
            self.image_micro,
            self.image_masked,
            self.video_micro,
            self.models,
            self.model,
        ):
            request()


class ImageUser(GatewayClient):
    """Image uploads only (2:1 micro:masked): one every ``1 / --pace`` s per user.

    The users' schedules are spread evenly over the interval (user i of N starts at i/N of
    it, then every interval), so N users offer a steady N x pace requests/s rather than bursts;
    a user whose upload took longer than the interval starts the next one at once (no catch-up
    burst). Locust's ``constant_throughput`` is not used: it counts the time before the first
    task as run time, which puts every user in the same phase.
    """

    started = 0  # users started in this process, for their phases

    tasks = {GatewayClient.image_micro: 2, GatewayClient.image_masked: 1}  # noqa: RUF012

    def wait_time(self) -> float:
        now = time.monotonic()
        self.next_start = max(self.next_start + self.interval, now)
        return self.next_start - now

    def on_start(self) -> None:
        super().on_start()
        options = self.environment.parsed_options
        self.interval = 1.0 / options.pace
        users = max(1, options.num_users or 1)
        phase = (ImageUser.started % users) / users
        ImageUser.started += 1
        self.next_start = time.monotonic() + phase * self.interval
        time.sleep(self.next_start - time.monotonic())


def check_job_result(body: Any) -> list[str]:
    """A finished job's result: the predict body, every frame once, in order."""
    if not isinstance(body, dict) or not isinstance(body.get("frames"), list):
        return ["result has no frames list"]
    frames = body["frames"]
    indices = [f.get("index") for f in frames]
    problems = []
    if indices != list(range(len(frames))):
        problems.append("frames are not every frame once, in order")
    if body.get("media", {}).get("frames_sampled") != len(frames):
        problems.append("media.frames_sampled differs from the frames returned")
    if "summary" not in body or "events" not in body:
        problems.append("result lacks summary or events")
    return problems


class JobUser(GatewayClient):
    """One job at a time: submit (202 + Location), poll every 0.5 s, result, delete."""

    wait_time = between(0.5, 1.5)

    @task
    def job(self) -> None:
        media = MEDIA["video"]
        with self.client.post(
            "/v1/jobs",
            params={"sample_interval": 0},
            files={"file": (media.filename, media.data, media.content_type)},
            headers=self.auth,
            name=JOB_SUBMIT,
            catch_response=True,
        ) as response:
            body, _ = _body(response)
            ok = (
                response.status_code == 202
                and isinstance(body, dict)
                and response.headers.get("location") == f"/v1/jobs/{body.get('id')}"
            )
            problems = [] if ok else [f"HTTP {response.status_code}: not a 202 job"]
            TALLY.record(JOB_SUBMIT, response.status_code, "ok" if ok else "fail", problems)
            if not ok:
                response.failure(problems[0])
                return
            response.success()
        job_id = body["id"]
        deadline = time.monotonic() + 120
        while True:
            job = self.read_json(f"/v1/jobs/{job_id}", JOB_STATUS, lambda b: [])
            if job is None or job.get("status") in ("succeeded", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                TALLY.record(JOB_STATUS, 200, "fail", ["job did not finish in 120 s"])
                break
            time.sleep(0.5)
        if job is not None and job.get("status") == "succeeded":
            self.read_json(f"/v1/jobs/{job_id}/result", JOB_RESULT, check_job_result)
        elif job is not None:
            TALLY.record(JOB_STATUS, 200, "fail", [f"job ended {job.get('status')}"])
        with self.client.delete(
            f"/v1/jobs/{job_id}", headers=self.auth, name=JOB_DELETE, catch_response=True
        ) as response:
            ok = response.status_code in (202, 204)
            TALLY.record(JOB_DELETE, response.status_code, "ok" if ok else "fail", [])
            if ok:
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
