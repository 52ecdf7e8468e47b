"""Graceful shutdown of a real ``python -m uvicorn service.app:app`` process: on SIGTERM it
stops accepting connections at once, lets the request in flight finish (uploading and then
processing a video) and exits, removing its private upload directory."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from hostile_media import encode_video
from live_server import start_server
from raw_http import (
    multipart_head,
    multipart_headers,
    multipart_tail,
    read_response,
    request_head,
    status_of,
)

from tools.facevideo import face_frame, face_photo

pytestmark = pytest.mark.slow  # live gateways stopped with SIGTERM mid-request

GRACE_S = 20


def connect_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_until_in_flight(client: httpx.Client, requests: int, within_s: float = 10) -> None:
    """Until the gateway reports ``requests`` in flight besides the /metrics call asking."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        for line in client.get("/metrics").text.splitlines():
            name, _, value = line.partition(" ")
            if name == "mmed_http_requests_in_flight" and float(value) >= requests + 1:
                return
        time.sleep(0.05)
    raise AssertionError(f"{requests} request(s) never in flight")


def test_sigterm_drains_in_flight_requests_and_refuses_new_ones(
    tiny_repository: Path, tmp_path: Path
) -> None:
    photo = face_photo()
    frames = (face_frame(photo, i, 320, 240) for i in range(300))
    video = encode_video("mp4", "libx264", frames, fps=30)  # 10 s, every frame sampled
    body = multipart_head("clip.mp4") + video + multipart_tail()
    server = start_server(tiny_repository, tmp_path, graceful_s=GRACE_S)
    upload_dir = server.upload_dir
    try:
        idle = httpx.Client(base_url=server.url)
        assert idle.get("/healthz").status_code == 200  # a keep-alive connection, now idle

        in_flight = socket.create_connection(("127.0.0.1", server.port))
        headers = multipart_headers(None, **{"Content-Length": str(len(body))})
        in_flight.sendall(
            request_head(server.port, headers, "/v1/predict?sample_interval=0") + body[:4096]
        )
        wait_until_in_flight(idle, 1)  # the app has the request: headers and part of the upload

        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not connect_refused(server.port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.05)
        assert server.process.poll() is None  # still draining

        in_flight.sendall(body[4096:])  # the rest of the upload, after the signal
        response = read_response(in_flight, timeout=GRACE_S)
        in_flight.close()
        assert status_of(response) == 200, response[:500]
        result = json.loads(response.partition(b"\r\n\r\n")[2])
        assert result["media"]["frames_sampled"] == 300

        assert server.process.wait(GRACE_S) in (0, -signal.SIGTERM)
        with pytest.raises(httpx.TransportError):  # nothing served on the idle connection
            idle.get("/healthz")
    finally:
        server.stop()
    log = server.log_text()
    assert "Application shutdown complete" in log
    assert not upload_dir.exists(), "the private upload dir outlived the process"
