"""The gateway with ``MMED_BACKEND=tfserving`` end to end: parity with the embedded backend,
and the faults of the issue (down at start, killed and restarted, slow, model missing)."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from fake_server import FakeTFServing, wait_until
from fastapi.testclient import TestClient
from tfs_helpers import edit_card

from service.backends.base import SignatureMismatch
from tools.facevideo import face_image, face_video

TFS: dict[str, Any] = {"backend": "tfserving", "tfserving_timeout_s": 1.0, "tfserving_retries": 1}
# Tests that time no deadline: room for a cold model's first call on a loaded machine (a 1 s
# deadline gave an occasional 504 there).
TFS_PATIENT: dict[str, Any] = {**TFS, "tfserving_timeout_s": 10.0}
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def clip() -> bytes:
    """1.5 s of a real face photograph drifting on a canvas, 10 fps."""
    return face_video(seconds=1.5, fps=10, width=480, height=360)


@pytest.fixture(scope="module")
def image() -> bytes:
    return face_image(320, 240)


def post(client: TestClient, payload: bytes, **params: Any):
    return client.post("/v1/predict", files={"file": ("upload", payload)}, params=params)


def post_crop(client: TestClient, payload: bytes, **params: Any):
    """The whole image as the face: the backend is always called."""
    return post(client, payload, detect_faces="false", **params)


def ready(client: TestClient) -> bool:
    return client.get("/readyz").status_code == 200


def assert_problem(response, status: int, retry_after: bool) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert ("retry-after" in response.headers) is retry_after
    body = response.json()
    assert body["status"] == status
    return body


def test_parity_with_the_embedded_backend(make_gateway, fake_tfs: FakeTFServing, clip) -> None:
    embedded = make_gateway()
    served = make_gateway(tfserving_grpc=fake_tfs.target, **TFS)
    assert served.get("/readyz").json()["backend"] == "tfserving"
    for task in ("micro", "masked"):
        a = post(embedded, clip, task=task, sample_interval=0.1)
        b = post(served, clip, task=task, sample_interval=0.1)
        assert a.status_code == b.status_code == 200, (a.text, b.text)
        a, b = a.json(), b.json()
        assert a["model"] == b["model"]
        assert a["summary"]["frames_with_face"] >= 10
        assert len(a["frames"]) == len(b["frames"])
        for fa, fb in zip(a["frames"], b["frames"], strict=True):
            assert (fa["index"], fa["face"], fa["label"]) == (fb["index"], fb["face"], fb["label"])
            if fa["probabilities"] is not None:
                assert fb["probabilities"].keys() == fa["probabilities"].keys()
                for cls, p in fa["probabilities"].items():
                    assert fb["probabilities"][cls] == pytest.approx(p, abs=1e-5)
    assert len(fake_tfs.requests) >= 2  # the served answers really came through gRPC


def test_down_at_start_not_ready_then_ready_without_restart(
    make_gateway, tiny_repository, free_port: int, image: bytes
) -> None:
    client = make_gateway(tfserving_grpc=f"127.0.0.1:{free_port}", **TFS)  # comes up anyway
    assert client.get("/healthz").status_code == 200
    assert_problem(client.get("/readyz"), 503, retry_after=True)
    body = assert_problem(post_crop(client, image), 503, retry_after=True)
    assert "unavailable" in body["detail"]
    server = FakeTFServing(tiny_repository, port=free_port).start()
    try:
        started = time.monotonic()
        assert wait_until(lambda: ready(client), timeout_s=10)
        took = time.monotonic() - started
        assert post_crop(client, image).status_code == 200
    finally:
        server.stop()
    assert took < 5


@pytest.mark.slow  # kills and restarts the fake TF Serving
def test_killed_mid_run_and_restarted(make_gateway, fake_tfs: FakeTFServing, image: bytes) -> None:
    client = make_gateway(tfserving_grpc=fake_tfs.target, **{**TFS, "tfserving_timeout_s": 5.0})
    assert ready(client)
    assert post_crop(client, image).status_code == 200

    fake_tfs.delay_s = 30.0  # a request in flight when the server dies
    calls = fake_tfs.calls["Predict"]
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(post_crop, client, image)
        assert wait_until(lambda: fake_tfs.calls["Predict"] > calls, timeout_s=5)
        fake_tfs.stop()
        in_flight = pending.result(timeout=10)
    fake_tfs.clear_faults()
    assert_problem(in_flight, 503, retry_after=True)

    assert_problem(post_crop(client, image), 503, retry_after=True)
    assert wait_until(lambda: not ready(client), timeout_s=3)

    fake_tfs.start()
    assert wait_until(lambda: ready(client), timeout_s=10)
    assert post_crop(client, image).status_code == 200
    metrics = client.get("/metrics").text
    assert 'mmed_backend_errors_total{backend="tfserving",code="UNAVAILABLE"}' in metrics


def test_slow_server_is_a_504_within_the_deadline(
    make_gateway, fake_tfs: FakeTFServing, image: bytes
) -> None:
    client = make_gateway(tfserving_grpc=fake_tfs.target, **{**TFS, "tfserving_timeout_s": 0.5})
    assert ready(client)
    fake_tfs.delay_s = 5.0
    started = time.monotonic()
    response = post_crop(client, image)
    elapsed = time.monotonic() - started
    body = assert_problem(response, 504, retry_after=False)
    assert "within 0.5 s" in body["detail"]
    assert elapsed < 0.5 + 1.0


def test_model_missing_from_tf_serving(make_gateway, tiny_repository, image: bytes) -> None:
    with FakeTFServing(tiny_repository, models=["micro-cnn"]) as server:
        client = make_gateway(tfserving_grpc=server.target, **TFS)
        assert_problem(client.get("/readyz"), 503, retry_after=True)
        status = {m["name"]: m["status"] for m in client.get("/v1/models").json()["models"]}
        assert status == {"masked-cnn": "unavailable", "micro-cnn": "available"}
        runtimes = {m["runtime"] for m in client.get("/v1/models").json()["models"]}
        assert runtimes == {"tfserving"}  # the server runs the float SavedModel
        body = assert_problem(post_crop(client, image, task="masked"), 503, retry_after=True)
        assert "does not serve model 'masked-cnn'" in body["detail"]
        assert "models.config" in body["detail"]
        assert post_crop(client, image, task="micro").status_code == 200


def test_older_version_is_a_404(make_gateway, repository_copy, image: bytes) -> None:
    root = repository_copy(micro_v2=True)
    with FakeTFServing(root) as server:
        client = make_gateway(model_repository=root, tfserving_grpc=server.target, **TFS_PATIENT)
        assert ready(client)
        latest = post_crop(client, image)
        assert latest.status_code == 200 and latest.json()["model"]["version"] == 2
        body = assert_problem(post_crop(client, image, version=1), 404, retry_after=False)
        assert body["title"] == "Model version not served"
        assert "serves only version(s) [2]" in body["detail"]


def test_signature_mismatch_stops_the_start(make_gateway, repository_copy) -> None:
    root = repository_copy()
    edit_card(root / "micro-cnn" / "1", input={"height": 40, "width": 40})
    with FakeTFServing(root) as server, pytest.raises(SignatureMismatch, match="micro-cnn/1"):
        make_gateway(model_repository=root, tfserving_grpc=server.target, **TFS)


def test_invalid_argument_is_a_logged_502(
    make_gateway, fake_tfs: FakeTFServing, image: bytes, caplog
) -> None:
    client = make_gateway(tfserving_grpc=fake_tfs.target, **TFS)
    assert ready(client)
    fake_tfs.fail_with(grpc.StatusCode.INVALID_ARGUMENT, "tensor parsing error: image")
    with caplog.at_level("ERROR"):
        body = assert_problem(post_crop(client, image), 502, retry_after=False)
    assert "INVALID_ARGUMENT" in body["detail"]
    assert fake_tfs.calls["Predict"] == 1  # not retried
    assert any("tensor parsing error" in r.getMessage() for r in caplog.records)
    metrics = client.get("/metrics").text
    assert 'mmed_backend_errors_total{backend="tfserving",code="INVALID_ARGUMENT"} 1.0' in metrics


def test_a_rollout_the_catalogue_has_not_scanned_yet_is_answered_by_the_new_version(
    make_gateway, repository_copy, free_port: int, image: bytes, clip: bytes
) -> None:
    # TF Serving loads version 2 and unloads 1 while the gateway's catalogue (rescanned every
    # 30 s) still lists only 1: a request for the default version must get version 2, not 404.
    root = repository_copy()
    with FakeTFServing(root, port=free_port) as server:
        client = make_gateway(model_repository=root, tfserving_grpc=server.target, **TFS_PATIENT)
        assert ready(client)
        assert post_crop(client, image).json()["model"]["version"] == 1
    shutil.copytree(root / "micro-cnn" / "1", root / "micro-cnn" / "2")
    edit_card(root / "micro-cnn" / "2", version=2)
    with FakeTFServing(root, port=free_port):
        answers = []  # the channel reconnects to the restarted server: 503s until then
        assert wait_until(
            lambda: answers.append(post_crop(client, clip)) or answers[-1].status_code != 503,
            timeout_s=10,
        )
        assert answers[-1].status_code == 200, answers[-1].text
        assert answers[-1].json()["model"]["version"] == 2  # the upload was read again
        assert answers[-1].json()["media"]["frames_sampled"] == 3
        assert client.get("/v1/models/micro-cnn").json()["version"] == 2
        # An explicit old version is still the 404 it was.
        body = assert_problem(post_crop(client, image, version=1), 404, retry_after=False)
        assert body["title"] == "Model version not served"


def test_a_version_tf_serving_has_not_loaded_yet_is_answered_by_the_one_it_serves(
    make_gateway, repository_copy, image: bytes
) -> None:
    # The catalogue already lists version 2 while TF Serving still serves only 1 (loading 2):
    # a request for the default version gets version 1, not a 503.
    root = repository_copy()
    with FakeTFServing(root) as server:  # loaded version 1 only
        shutil.copytree(root / "micro-cnn" / "1", root / "micro-cnn" / "2")
        edit_card(root / "micro-cnn" / "2", version=2)
        client = make_gateway(
            model_repository=root, tfserving_grpc=server.target, catalogue_refresh_s=0, **TFS
        )
        assert client.get("/v1/models/micro-cnn").json()["versions"] == [1, 2]
        assert ready(client)  # it can answer: the rollout does not take it out of service
        answer = post_crop(client, image)
        assert answer.status_code == 200, answer.text
        assert answer.json()["model"]["version"] == 1
        # Asking for version 2 explicitly is still the 503 + Retry-After it was.
        body = assert_problem(post_crop(client, image, version=2), 503, retry_after=True)
        assert "not loaded in TF Serving yet" in body["detail"]
