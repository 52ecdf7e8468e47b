"""Uploads against a real gateway process: where they are spooled, that nothing outlives the
request (also when the client disconnects mid-upload), and the size limit enforced while the
body streams in, before it is read whole."""

from __future__ import annotations

import os
import socket
import time

import httpx
from live_server import API_KEY, MAX_UPLOAD_MB, LiveServer, assert_nothing_left, open_files_under
from raw_http import (
    multipart_head,
    multipart_headers,
    multipart_tail,
    read_response,
    request_head,
    status_of,
    stream_until_answered,
)

from tools.facevideo import face_image

MB = 1024 * 1024


def wait_for_open_files(server: LiveServer, within_s: float = 5.0) -> list[str]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = open_files_under(server.pid, server.tmp)
        if found:
            return found
        time.sleep(0.02)
    return []


def test_upload_is_spooled_in_the_private_dir_and_removed(live: LiveServer) -> None:
    """3 MiB sent and the request held open: the part is spooled to disk (Starlette rolls over
    at 1 MiB), as an unnamed file in the private dir; once answered, nothing is left."""
    payload = os.urandom(3 * MB)
    body = multipart_head() + payload + multipart_tail()
    headers = multipart_headers(API_KEY, **{"Content-Length": str(len(body))})
    with socket.create_connection(("127.0.0.1", live.port)) as sock:
        sock.sendall(request_head(live.port, headers) + body[:-100])
        spooled = wait_for_open_files(live)
        assert spooled and all(path.startswith(f"{live.upload_dir}/") for path in spooled)
        assert list(live.upload_dir.iterdir()) == []  # O_TMPFILE: never has a name
        sock.sendall(body[-100:])
        assert status_of(read_response(sock)) == 415  # random bytes
    assert_nothing_left(live)


def test_client_disconnecting_mid_upload_leaves_nothing(live: LiveServer) -> None:
    body_head = multipart_head() + os.urandom(int(2.5 * MB))
    headers = multipart_headers(API_KEY, **{"Content-Length": str(len(body_head) + MB)})
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", live.port))
        sock.sendall(request_head(live.port, headers) + body_head)
        assert wait_for_open_files(live), "the upload was never spooled"
        sock.close()  # half the body sent, then gone
        assert_nothing_left(live, within_s=5.0)
    assert httpx.get(f"{live.url}/healthz").status_code == 200


def test_streamed_upload_over_the_limit_is_413_before_it_is_read(live: LiveServer) -> None:
    """Chunked upload (no Content-Length) of up to 256 MiB against an 8 MiB limit: the 413
    arrives while the client is still sending, and the gateway's memory does not follow."""
    rss_before = live.rss()
    limit = MAX_UPLOAD_MB * MB
    outcome = stream_until_answered(
        live.port, multipart_headers(API_KEY), multipart_head(), offered=256 * MB
    )
    print(f"413 after {outcome.sent / MB:.1f} MiB sent, {outcome.seconds:.2f} s")
    assert outcome.response, f"no answer after {outcome.sent} bytes"
    assert status_of(outcome.response) == 413
    assert b"application/problem+json" in outcome.response
    assert b"Upload too large" in outcome.response
    # What the kernel's socket buffers and uvicorn's read buffer hold beyond the limit.
    assert limit < outcome.sent < limit + 32 * MB, outcome
    print(f"RSS growth {(live.rss() - rss_before) / MB:.1f} MiB")
    assert live.rss() - rss_before < 64 * MB
    assert_nothing_left(live)


def test_declared_length_over_the_limit_is_413_without_reading(live: LiveServer) -> None:
    headers = multipart_headers(API_KEY, **{"Content-Length": str(10 * 1024 * MB)})
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", live.port)) as sock:
        sock.sendall(request_head(live.port, headers))  # not one body byte
        response = read_response(sock, timeout=5)
    assert status_of(response) == 413 and b"x-request-id" in response.lower()
    assert time.monotonic() - started < 1.0


def test_oversized_uploads_in_parallel_are_all_413(live: LiveServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def streamed(_: int) -> int:
        outcome = stream_until_answered(
            live.port, multipart_headers(API_KEY), multipart_head(), offered=64 * MB
        )
        return status_of(outcome.response) if outcome.response else 0

    rss_before = live.rss()
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(streamed, range(4)))
    assert statuses == [413] * 4
    assert live.rss() - rss_before < 64 * MB
    assert_nothing_left(live)


def test_thousands_of_file_parts_are_refused_and_leave_nothing(live: LiveServer) -> None:
    parts = [("file", (f"f{i}.bin", b"x" * 100)) for i in range(1500)]
    r = httpx.post(
        f"{live.url}/v1/predict", files=parts, headers={"X-API-Key": API_KEY}, timeout=30
    )
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert "Too many files" in r.json()["detail"]
    assert_nothing_left(live)


def test_extra_file_parts_are_ignored_and_removed(live: LiveServer) -> None:
    """A big second file part (spooled to disk) beside the real one: answered, then removed."""
    parts = [("file", ("face.jpg", face_image(160, 120))), ("other", ("x.bin", os.urandom(3 * MB)))]
    r = httpx.post(
        f"{live.url}/v1/predict", files=parts, headers={"X-API-Key": API_KEY}, timeout=30
    )
    assert r.status_code == 200, r.text
    assert_nothing_left(live)
