"""Structured logs of a real gateway process: one JSON object per Python log record, each
request's id in its records and in ``X-Request-ID``, and never an API key."""

from __future__ import annotations

import json
import secrets
import time

import httpx
from live_server import API_KEY, LiveServer

from tools.facevideo import face_image

# Native libraries write straight to stderr, outside Python logging: TensorFlow's C++ logger
# (absl), which TF_CPP_MIN_LOG_LEVEL does not fully silence before absl is initialised.
NATIVE_PREFIXES = (
    "I0000 ",
    "W0000 ",
    "E0000 ",
    "WARNING: All log messages before absl",
    "INFO: Created TensorFlow Lite",  # the TFLite runtime (BlazeFace), on its first call
)


def records(server: LiveServer) -> list[dict]:
    out = []
    for line in server.log_text().splitlines():
        if not line.strip() or line.startswith(NATIVE_PREFIXES):
            continue
        out.append(json.loads(line))  # anything else must be a JSON object
    return out


def wait_for_record(server: LiveServer, request_id: str, within_s: float = 5.0) -> dict:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        for record in records(server):
            if record.get("request_id") == request_id and record.get("logger") == "mmed.access":
                return record
        time.sleep(0.05)
    raise AssertionError(f"no access record for request {request_id}")


def test_every_python_log_line_is_json_with_level_logger_and_request_id(live: LiveServer) -> None:
    httpx.get(f"{live.url}/healthz")
    found = records(live)
    assert any(r["logger"].startswith("uvicorn") for r in found)  # uvicorn's own lines too
    for record in found:
        assert {"time", "level", "logger", "message", "request_id"} <= set(record), record


def test_request_id_is_returned_and_logged(live: LiveServer) -> None:
    r = httpx.get(f"{live.url}/v1/models", headers={"X-API-Key": API_KEY})
    generated = r.headers["x-request-id"]
    assert len(generated) == 32 and int(generated, 16) >= 0  # uuid4 hex
    access = wait_for_record(live, generated)
    assert (access["method"], access["path"], access["status"]) == ("GET", "/v1/models", 200)

    mine = "client-trace.42"
    r = httpx.get(f"{live.url}/healthz", headers={"X-Request-ID": mine})
    assert r.headers["x-request-id"] == mine
    wait_for_record(live, mine)

    for hostile in ("a" * 65, "id with spaces", '{"json":1}', "\u00e9t\u00e9"):
        r = httpx.get(f"{live.url}/healthz", headers={"X-Request-ID": hostile.encode("utf-8")})
        assert r.headers["x-request-id"] != hostile and len(r.headers["x-request-id"]) == 32


def test_request_id_on_rejections_and_errors(live: LiveServer) -> None:
    r = httpx.post(f"{live.url}/v1/predict", files={"file": ("x", b"not media")})  # no key
    assert r.status_code == 401
    wait_for_record(live, r.headers["x-request-id"])
    r = httpx.post(
        f"{live.url}/v1/predict",
        files={"file": ("x", b"not media")},
        headers={"X-API-Key": API_KEY, "X-Request-ID": "rejected-415"},
    )
    assert r.status_code == 415 and r.headers["x-request-id"] == "rejected-415"
    assert wait_for_record(live, "rejected-415")["status"] == 415


def test_no_api_key_is_ever_logged(live: LiveServer) -> None:
    """The right key and a wrong one, on every route, in headers and (wrongly) in the query;
    then the whole DEBUG log of the process is searched for either."""
    wrong = "wrong-" + secrets.token_urlsafe(24)
    image = face_image(160, 120)
    for key in (API_KEY, wrong):
        headers = {"X-API-Key": key}
        for path in ("/v1/models", "/v1/models/micro-cnn", "/v1/models/nope", "/healthz"):
            httpx.get(f"{live.url}{path}", headers=headers)
        httpx.post(f"{live.url}/v1/predict", files={"file": ("f.jpg", image)}, headers=headers)
        httpx.post(f"{live.url}/v1/predict", files={"file": ("f", b"junk")}, headers=headers)
        httpx.post(
            f"{live.url}/v1/predict",
            params={"api_key": key, "model": "bad/name"},
            files={"file": ("f.jpg", image)},
            headers=headers,
        )
    last = httpx.get(f"{live.url}/healthz").headers["x-request-id"]
    wait_for_record(live, last)
    log = live.log_text()
    assert "/v1/predict" in log and len(log) > 1000  # the log is really there
    assert API_KEY not in log
    assert wrong not in log
