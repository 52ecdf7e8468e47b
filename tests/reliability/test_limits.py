"""Limits that hold under concurrency (in-process gateway, real pipeline and media):
concurrent requests, request timeout, frame cap, and several limits hit at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hostile_media import encode_video

import service.pipeline
from service.app import create_app
from service.backends.base import Backend
from service.media import MediaSource
from service.settings import Settings
from tools.facevideo import face_frame, face_image, face_photo, face_video


def post(client: TestClient, data: bytes, **params: object):
    return client.post("/v1/predict", files={"file": ("upload", data)}, params=params)


class GatedBackend(Backend):
    """Uniform probabilities once ``gate`` opens; counts the calls waiting at the gate."""

    name = "gated"

    def __init__(self) -> None:
        self.gate: asyncio.Event | None = None
        self.waiting = 0

    async def start(self, models) -> None:
        return None

    async def predict(self, model, batch):
        self.waiting += 1
        try:
            if self.gate is not None:
                await self.gate.wait()
        finally:
            self.waiting -= 1
        k = len(model.card.classes)
        return np.full((len(batch), k), 1 / k, np.float32)

    async def ready(self, models) -> bool:
        return True


@pytest.fixture
def gated(tiny_repository: Path) -> Iterator[tuple[TestClient, GatedBackend]]:
    backend = GatedBackend()
    settings = Settings(model_repository=tiny_repository, max_concurrency=2, retry_after_s=3)
    with TestClient(create_app(settings, backend=backend)) as client:
        backend.gate = client.portal.call(asyncio.Event)
        yield client, backend
        client.portal.call(backend.gate.set)


def test_excess_requests_get_503_immediately_while_the_slots_are_busy(gated) -> None:
    client, backend = gated
    image = face_image(320, 240)
    with ThreadPoolExecutor(8) as pool:
        held = [pool.submit(post, client, image) for _ in range(2)]
        deadline = time.monotonic() + 20
        while backend.waiting < 2:  # both slots taken, both requests parked at the backend
            assert time.monotonic() < deadline, "the first two requests never reached the backend"
            time.sleep(0.01)
        started = time.monotonic()
        excess = list(pool.map(lambda _: post(client, image), range(6)))
        shed_in = time.monotonic() - started
        print(f"6 excess requests answered 503 in {shed_in:.3f} s")
        client.portal.call(backend.gate.set)
        assert [f.result(timeout=30).status_code for f in held] == [200, 200]
    for r in excess:
        assert r.status_code == 503 and r.headers["retry-after"] == "3"
        assert r.headers["content-type"] == "application/problem+json"
    assert shed_in < 2.0  # six answers, none waited for a slot
    assert post(client, image).status_code == 200  # slots released


def test_failed_requests_release_their_slot(gated) -> None:
    client, backend = gated
    client.portal.call(backend.gate.set)
    for payload in (b"", b"\xff\xd8\xff" + bytes(100), b"RIFF" + bytes(60)) * 3:
        assert post(client, payload).status_code in (415, 422)
    assert client.post("/v1/predict", params={"version": "x"}).status_code == 400
    assert post(client, face_image(160, 120)).status_code == 200


class FrameLog:
    """Wraps ``open_media``: records when each frame leaves the decoder, which takes at least
    ``delay_s`` a frame (so a test's decoding outlasts its budget on any machine)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.times: list[float] = []
        self.sources: list[MediaSource] = []

    def open_media(self, file, limits):
        source = self.real(file, limits)
        frames = source.frames

        def recorded(*args, **kwargs):
            for frame in frames(*args, **kwargs):
                if self.delay_s:
                    time.sleep(self.delay_s)
                self.times.append(time.monotonic())
                yield frame

        source.frames = recorded  # type: ignore[method-assign]
        self.sources.append(source)
        return source

    real = staticmethod(service.pipeline.open_media)


@pytest.mark.slow  # waits out a request timeout
def test_request_timeout_is_504_and_the_decoding_stops(
    tiny_repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dense video (600 frames, every one sampled, each held 2 ms in the decoder: >= 1.2 s of
    work), a 0.3 s budget and one 1024-frame batch, so nothing but the cancellation can stop
    the decoding early. (Without the hold the whole clip was once decoded within 0.3 s.)"""
    log = FrameLog(delay_s=0.002)
    monkeypatch.setattr(service.pipeline, "open_media", log.open_media)
    photo = face_photo()
    video = encode_video(
        "mp4", "libx264", (face_frame(photo, i, 320, 240) for i in range(600)), fps=30
    )
    settings = Settings(
        model_repository=tiny_repository, request_timeout_s=0.3, inference_batch=1024
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        started = time.monotonic()
        r = post(client, video, sample_interval=0)
        answered = time.monotonic()
        assert r.status_code == 504, r.text
        print(f"504 after {answered - started:.2f} s, {len(log.times)} frames decoded")
        assert r.headers["content-type"] == "application/problem+json"
        assert answered - started < 0.3 + 2.0
        time.sleep(1.0)
        assert 0 < len(log.times) < 600
        assert log.times[-1] <= answered, "frames were still decoded after the 504"
        assert threading.active_count() < 50
        ok = post(client, face_image(160, 120))  # the gateway is fine afterwards
        assert ok.status_code == 200


def test_frame_cap_setting(make_client) -> None:
    client = make_client(max_frames=5)
    clip = face_video(seconds=2.0, fps=10, width=160, height=120)
    body = post(client, clip, sample_interval=0).json()
    assert body["media"]["frames_sampled"] == len(body["frames"]) == 5
    assert (
        post(client, clip, sample_interval=0, max_frames=3).json()["media"]["frames_sampled"] == 3
    )
    assert post(client, clip, max_frames=6).status_code == 400


def test_limits_hold_under_concurrent_mixed_load(make_client) -> None:
    """Over-long videos, oversized uploads and good images, four at a time, three rounds."""
    client = make_client(max_video_s=1.0, max_upload_mb=0.25, max_concurrency=4)
    long_video = face_video(seconds=2.0, fps=10, width=160, height=120)
    big = face_image(320, 240) + bytes(300_000)
    good = face_image(320, 240)
    jobs = [(long_video, 413), (big, 413), (good, 200), (b"\x00" * 1000, 415)] * 3
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda job: post(client, job[0]).status_code, jobs))
    assert statuses == [want for _, want in jobs]
