"""Every error status of design §2 that the embedded gateway can give, as problem+json."""

from __future__ import annotations

import asyncio
import io
import struct
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from service.app import create_app
from service.backends.base import Backend, BackendError, BackendTimeout, BackendUnavailable
from service.settings import Settings
from tools.facevideo import face_video


def post(client, payload: bytes, headers=None, **params):
    return client.post(
        "/v1/predict", files={"file": ("x", payload)}, params=params, headers=headers or {}
    )


def assert_problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert set(body) == {"type", "title", "status", "detail"} and body["status"] == status
    return body


@pytest.mark.parametrize(
    "params",
    [
        {"sample_interval": "-1"},
        {"sample_interval": "soon"},
        {"task": "macro"},
        {"max_frames": "0"},
        {"max_frames": "999999"},
        {"version": "0"},
        {"detect_faces": "maybe"},
        {"model": "../../etc/passwd"},
        {"model": "masked-cnn", "task": "micro"},
    ],
)
def test_bad_parameters_are_400(client, face_jpeg, params) -> None:
    assert_problem(post(client, face_jpeg, **params), 400)


def test_missing_file_is_400(client) -> None:
    assert_problem(client.post("/v1/predict"), 400)


def test_unknown_model_and_version_are_404(client, face_jpeg) -> None:
    assert_problem(post(client, face_jpeg, model="micro-nope"), 404)
    assert_problem(post(client, face_jpeg, model="micro-cnn", version=7), 404)
    assert_problem(client.get("/v1/models/micro-nope"), 404)


def test_not_media_is_415_and_broken_media_is_422(client, face_jpeg) -> None:
    assert_problem(post(client, b""), 415)
    assert_problem(post(client, np.random.default_rng(0).bytes(4096)), 415)
    assert_problem(post(client, b"GIF89a" + bytes(64)), 415)
    assert_problem(post(client, face_jpeg[: len(face_jpeg) // 3]), 422)


def test_oversized_upload_is_413(make_client, face_jpeg) -> None:
    client = make_client(max_upload_mb=0.01)
    assert_problem(post(client, face_jpeg), 413)
    assert client.get("/healthz").status_code == 200


def test_video_over_the_duration_limit_is_413(make_client) -> None:
    client = make_client(max_video_s=1.0)
    assert_problem(post(client, face_video(seconds=2.0, width=160, height=120)), 413)


def test_decompression_bomb_is_413(client) -> None:
    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, format="PNG")
    png = bytearray(buf.getvalue())
    # Rewrite IHDR to claim 50 000 x 50 000 pixels (with a valid CRC).
    ihdr = b"IHDR" + struct.pack(">II", 50_000, 50_000) + bytes(png[24:29])
    png[12:33] = ihdr + struct.pack(">I", zlib.crc32(ihdr))
    assert_problem(post(client, bytes(png)), 413)


def test_api_keys(make_client, face_jpeg) -> None:
    client = make_client(api_keys="k-one, k-two")
    body = assert_problem(post(client, face_jpeg), 401)
    assert "X-API-Key" in body["detail"]
    assert_problem(post(client, face_jpeg, headers={"X-API-Key": "wrong"}), 401)
    assert_problem(client.get("/v1/models"), 401)
    assert post(client, face_jpeg, headers={"X-API-Key": "k-two"}).status_code == 200
    assert client.get("/v1/models", headers={"X-API-Key": "k-one"}).status_code == 200
    for open_path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(open_path).status_code == 200


class FailingBackend(Backend):
    """A backend double that loads nothing and fails every call with ``error``."""

    name = "failing"

    def __init__(self, error: BackendError | None = None, gate: asyncio.Event | None = None):
        self.error = error
        self.gate = gate

    async def start(self, models) -> None:
        return None

    async def predict(self, model, batch):
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return np.full((len(batch), len(model.card.classes)), 1 / len(model.card.classes))

    async def ready(self, models) -> bool:
        return self.error is None


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BackendUnavailable("TF Serving is down"), 503),
        (BackendTimeout("deadline exceeded"), 504),
        (BackendError("INVALID_ARGUMENT"), 502),
    ],
)
def test_backend_failures_map_to_problems(tiny_repository, face_jpeg, error, status) -> None:
    app = create_app(Settings(model_repository=tiny_repository), backend=FailingBackend(error))
    with TestClient(app) as client:
        r = post(client, face_jpeg)
        assert_problem(r, status)
        assert ("retry-after" in r.headers) == (status == 503)
        assert_problem(client.get("/readyz"), 503)
        assert client.get("/healthz").status_code == 200


def test_missing_default_model_is_not_ready(make_client) -> None:
    client = make_client(default_micro_model="micro-absent")
    assert_problem(client.get("/readyz"), 503)
    assert client.get("/healthz").json() == {"status": "ok", "backend": None, "models": None}


def test_saturation_is_503_with_retry_after(tiny_repository, face_jpeg) -> None:
    backend = FailingBackend()
    app = create_app(Settings(model_repository=tiny_repository, max_concurrency=1), backend=backend)
    with TestClient(app) as client:
        backend.gate = client.portal.call(asyncio.Event)
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(post, client, face_jpeg)
            for _ in range(200):  # wait until the first request holds the only slot
                if client.app.state.metrics.in_flight._value.get() >= 1:
                    break
                time.sleep(0.01)
            second = post(client, face_jpeg)
            client.portal.call(backend.gate.set)
            assert first.result(timeout=30).status_code == 200
        body = assert_problem(second, 503)
        assert second.headers["retry-after"] == "1" and "busy" in body["detail"]
