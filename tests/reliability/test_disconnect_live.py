"""A client that disconnects while its upload is processed: the work stops and its concurrency
slot is free again at once, instead of when the answer nobody reads is done."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
from live_server import start_server
from raw_http import multipart_head, multipart_headers, multipart_tail, request_head

from tools.facevideo import face_image, face_video

pytestmark = pytest.mark.slow  # a live gateway and long uploads


def test_a_client_that_disconnects_stops_its_work_and_frees_its_slot(
    tiny_repository: Path, tmp_path: Path
) -> None:
    video = face_video(seconds=60, fps=30, width=640, height=480)  # 1800 frames, every one analysed
    image = face_image(160, 120)
    server = start_server(tiny_repository, tmp_path, max_concurrency=1)
    try:
        url = f"{server.url}/v1/predict"
        started = time.monotonic()
        whole = httpx.post(
            url, files={"file": ("v.mp4", video)}, params={"sample_interval": 0}, timeout=120
        )
        full_s = time.monotonic() - started
        assert whole.status_code == 200 and whole.json()["media"]["frames_sampled"] == 1800

        body = multipart_head("v.mp4") + video + multipart_tail()
        headers = multipart_headers(None, **{"Content-Length": str(len(body))})
        path = "/v1/predict?sample_interval=0"
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(request_head(server.port, headers, path=path) + body)
            time.sleep(0.3)  # the work has started: the one slot is taken
            busy = httpx.post(url, files={"file": ("f.jpg", image)}, timeout=10)
            assert busy.status_code == 503
        closed = time.monotonic()
        while True:  # the next request gets the slot as soon as the work has stopped
            answer = httpx.post(url, files={"file": ("f.jpg", image)}, timeout=10)
            if answer.status_code == 200:
                break
            assert answer.status_code == 503 and time.monotonic() - closed < full_s
            time.sleep(0.05)
        freed_s = time.monotonic() - closed
        print(f"whole video {full_s:.2f} s; slot free {freed_s:.2f} s after the disconnect")
        assert freed_s < min(1.5, full_s / 2)
        assert '"status": 499' in server.log_text()
    finally:
        server.stop()
