"""TFServingBackend against the TF Serving test double: requests, splitting, retries, errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import tensorflow as tf
from fake_server import FakeTFServing, load_saved_model
from tensorflow_serving.apis import get_model_status_pb2
from tfs_helpers import edit_card

from model_artifact import ModelRepository, ModelVersion
from model_artifact.serving_config import BatchingParameters
from service.backends.base import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ModelNotServed,
    SignatureMismatch,
    VersionNotLoaded,
    VersionNotServed,
)
from service.backends.tensor_proto import decode, encode_uint8
from service.backends.tfserving import TFServingBackend, grpc_target, message_limit
from service.metrics import Metrics
from service.settings import Settings

LOADING = get_model_status_pb2.ModelVersionStatus.LOADING


def crops(n: int, side: int = 48, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, side, side, 1), dtype=np.uint8)


def models(root: Path) -> dict[str, ModelVersion]:
    return {mv.name: mv for mv in ModelRepository(root).latest()}


def reference(mv: ModelVersion, batch: np.ndarray) -> np.ndarray:
    loaded, _ = load_saved_model(str(mv.path))
    return loaded.signatures["serving_default"](image=tf.constant(batch))["probabilities"].numpy()


def make_backend(root: Path, target: str, **overrides: Any) -> TFServingBackend:
    values: dict[str, Any] = {"tfserving_timeout_s": 1.0, "tfserving_retries": 2, **overrides}
    settings = Settings(model_repository=root, backend="tfserving", tfserving_grpc=target, **values)
    return TFServingBackend(settings, Metrics())


def run(
    backend: TFServingBackend,
    start: list[ModelVersion],
    body: Callable[[TFServingBackend], Awaitable[Any]],
) -> Any:
    """Start ``backend`` with ``start`` models, run ``body`` on one event loop, close it."""

    async def main() -> Any:
        await backend.start(start)
        try:
            return await body(backend)
        finally:
            await backend.close()

    return asyncio.run(main())


def errors(backend: TFServingBackend, code: str) -> float:
    value = backend.metrics.registry.get_sample_value(
        "mmed_backend_errors_total", {"backend": "tfserving", "code": code}
    )
    return value or 0.0


def test_tensor_proto_is_raw_bytes_and_equals_make_tensor_proto() -> None:
    batch = crops(3)
    proto = encode_uint8(batch)
    assert proto == tf.make_tensor_proto(batch)
    assert proto.tensor_content == batch.tobytes() and not proto.int_val
    np.testing.assert_array_equal(decode(proto), batch)
    with pytest.raises(TypeError):
        encode_uint8(batch.astype(np.float32))


def test_what_the_gateway_sends(fake_tfs: FakeTFServing, tiny_repository: Path) -> None:
    """Decode the request the fake received: dtype, shape and bytes are the crops'."""
    mv = models(tiny_repository)["micro-cnn"]
    batch = crops(5, seed=3)
    probs = run(
        make_backend(tiny_repository, fake_tfs.target), [mv], lambda b: b.predict(mv, batch)
    )
    (request,) = fake_tfs.requests
    assert request.model_spec.name == "micro-cnn"
    assert request.model_spec.version.value == 1
    assert request.model_spec.signature_name == "serving_default"
    assert list(request.output_filter) == ["probabilities"]
    assert list(request.inputs) == ["image"]
    sent = request.inputs["image"]
    assert sent.dtype == tf.uint8.as_datatype_enum
    assert [d.size for d in sent.tensor_shape.dim] == [5, 48, 48, 1]
    assert sent.tensor_content == batch.tobytes() and not sent.int_val
    np.testing.assert_array_equal(tf.make_ndarray(sent), batch)
    assert probs.dtype == np.float32 and probs.shape == (5, 5)
    np.testing.assert_allclose(probs, reference(mv, batch), atol=1e-6)


def test_large_batches_are_split_at_max_batch_size(repository_copy) -> None:
    root = repository_copy(
        BatchingParameters(
            max_batch_size=8, allowed_batch_sizes=(8,), enable_large_batch_splitting=False
        )
    )
    mv = models(root)["micro-cnn"]
    batch = crops(21, seed=5)
    with FakeTFServing(root) as server:  # rejects > 8 like TF Serving without splitting
        backend = make_backend(root, server.target)
        assert backend.max_batch_size == 8
        probs = run(backend, [mv], lambda b: b.predict(mv, batch))
        sizes = sorted(r.inputs["image"].tensor_shape.dim[0].size for r in server.requests)
    assert sizes == [5, 8, 8]
    np.testing.assert_allclose(probs, reference(mv, batch), atol=1e-6)  # order kept


@pytest.mark.slow  # a gRPC message of the largest batch, each way
def test_message_limit_fits_the_largest_batch(repository_copy) -> None:
    """A 2000-crop batch (4.6 MB, over gRPC's 4 MiB default) goes through in one call."""
    root = repository_copy(BatchingParameters(max_batch_size=2048, allowed_batch_sizes=(2048,)))
    mv = models(root)["masked-cnn"]
    batch = crops(2000, seed=7)
    assert batch.nbytes > 4 * 1024 * 1024
    with FakeTFServing(root) as server:
        backend = make_backend(root, server.target, tfserving_timeout_s=20.0)
        assert backend.message_limit >= 2 * 2048 * 48 * 48
        probs = run(backend, [mv], lambda b: b.predict(mv, batch))
        assert len(server.requests) == 1
    assert probs.shape == (2000, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_message_limit_bounds_rows_per_call(tiny_repository: Path) -> None:
    backend = make_backend(tiny_repository, "127.0.0.1:1")
    mv = models(tiny_repository)["micro-cnn"]
    assert backend.rows_per_call(mv) == backend.max_batch_size == 64
    backend.message_limit = 10 * 48 * 48 + 64 * 1024  # e.g. a later model with larger crops
    assert backend.rows_per_call(mv) == 10
    assert message_limit(64, 48 * 48) == 32 * 1024 * 1024
    assert message_limit(1024, 299 * 299 * 3) == 2 * 1024 * 299 * 299 * 3 + 64 * 1024
    assert grpc_target("tfserving:8500") == "dns:///tfserving:8500"
    assert grpc_target("ipv4:10.0.0.1:8500") == "ipv4:10.0.0.1:8500"


def test_unavailable_is_retried_within_bounds(
    fake_tfs: FakeTFServing, tiny_repository: Path
) -> None:
    mv = models(tiny_repository)["micro-cnn"]
    backend = make_backend(tiny_repository, fake_tfs.target, tfserving_retries=2)

    async def body(b: TFServingBackend) -> None:
        fake_tfs.fail_with(grpc.StatusCode.UNAVAILABLE, count=2, methods=["Predict"])
        assert (await b.predict(mv, crops(2))).shape == (2, 5)  # 2 failures, 2 retries
        assert fake_tfs.calls["Predict"] == 3
        fake_tfs.fail_with(grpc.StatusCode.UNAVAILABLE, count=3, methods=["Predict"])
        with pytest.raises(BackendUnavailable, match="after 2 retries") as info:
            await b.predict(mv, crops(2))
        assert info.value.status == 503
        assert fake_tfs.calls["Predict"] == 6

    run(backend, [mv], body)
    assert errors(backend, "UNAVAILABLE") == 5


@pytest.mark.parametrize(
    ("code", "error", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, BackendError, 502),
        (grpc.StatusCode.FAILED_PRECONDITION, BackendError, 502),
        (grpc.StatusCode.INTERNAL, BackendError, 502),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, BackendUnavailable, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, BackendTimeout, 504),
    ],
)
def test_other_codes_are_not_retried(
    fake_tfs: FakeTFServing, tiny_repository: Path, code, error, status, caplog
) -> None:
    mv = models(tiny_repository)["micro-cnn"]
    backend = make_backend(tiny_repository, fake_tfs.target)

    async def body(b: TFServingBackend) -> None:
        fake_tfs.fail_with(code, "injected", methods=["Predict"])
        with pytest.raises(error) as info:
            await b.predict(mv, crops(1))
        assert type(info.value) is error and info.value.status == status

    with caplog.at_level("ERROR", logger="mmed.backend.tfserving"):
        run(backend, [mv], body)
    assert fake_tfs.calls["Predict"] == 1
    assert errors(backend, code.name) == 1
    if status == 502:  # a server error of ours: logged with TF Serving's details
        assert any("injected" in r.getMessage() for r in caplog.records)


def test_deadline_per_call(fake_tfs: FakeTFServing, tiny_repository: Path) -> None:
    mv = models(tiny_repository)["micro-cnn"]
    backend = make_backend(tiny_repository, fake_tfs.target, tfserving_timeout_s=0.5)

    async def body(b: TFServingBackend) -> float:
        fake_tfs.delay_s = 3.0
        started = time.perf_counter()
        with pytest.raises(BackendTimeout, match=r"within 0\.5 s"):
            await b.predict(mv, crops(1))
        return time.perf_counter() - started

    elapsed = run(backend, [mv], body)
    assert 0.45 < elapsed < 1.0


def test_old_version_is_404_new_missing_model_503(repository_copy) -> None:
    root = repository_copy(micro_v2=True)
    repo = ModelRepository(root)
    v1, v2, masked = repo.load("micro-cnn", 1), repo.load("micro-cnn", 2), repo.load("masked-cnn")
    with FakeTFServing(root, models=["micro-cnn"]) as server:
        backend = make_backend(root, server.target)

        async def body(b: TFServingBackend) -> None:
            assert (await b.predict(v2, crops(1))).shape == (1, 5)
            with pytest.raises(VersionNotServed, match=r"serves only version\(s\) \[2\]") as old:
                await b.predict(v1, crops(1))
            assert old.value.status == 404
            with pytest.raises(ModelNotServed, match="does not serve model 'masked-cnn'") as gone:
                await b.predict(masked, crops(1))
            assert gone.value.status == 503 and "models.config" in str(gone.value)
            assert not await b.ready([v2, masked])
            server.set_state("micro-cnn", 2, LOADING)
            b._verified.clear()
            b._ready_cache.clear()
            with pytest.raises(VersionNotLoaded, match="not loaded in TF Serving yet") as new:
                await b.predict(v2, crops(1))
            assert new.value.status == 503 and new.value.available == []
            assert not await b.ready([v2])

        run(backend, [v2], body)
    assert errors(backend, "NOT_FOUND") >= 3


def test_down_at_start_then_ready_without_restart(tiny_repository: Path, free_port: int) -> None:
    mv = list(models(tiny_repository).values())
    backend = make_backend(tiny_repository, f"127.0.0.1:{free_port}")
    server = FakeTFServing(tiny_repository, port=free_port)

    async def body(b: TFServingBackend) -> float:
        assert not await b.ready(mv)
        with pytest.raises(BackendUnavailable):
            await b.predict(mv[0], crops(1))
        server.start()
        started = time.monotonic()
        while not await b.ready(mv):
            assert time.monotonic() - started < 10, "never became ready"
            await asyncio.sleep(0.1)
        assert (await b.predict(mv[0], crops(2))).shape[0] == 2
        return time.monotonic() - started

    try:
        took = run(backend, mv, body)  # start() did not raise while the server was down
    finally:
        server.stop()
    assert took < 5
    assert server.calls["GetModelMetadata"] == 2  # the deferred signature checks, once each


def test_ready_is_cached_for_a_second(fake_tfs: FakeTFServing, tiny_repository: Path) -> None:
    mv = list(models(tiny_repository).values())
    backend = make_backend(tiny_repository, fake_tfs.target)

    async def body(b: TFServingBackend) -> None:
        assert all(await asyncio.gather(*(b.ready(mv) for _ in range(5))))
        assert await b.ready(mv)
        assert fake_tfs.calls["GetModelStatus"] == 2  # one per model
        await asyncio.sleep(1.1)
        assert await b.ready(mv)
        assert fake_tfs.calls["GetModelStatus"] == 4

    run(backend, mv, body)


def test_signature_mismatch_is_a_start_up_error(repository_copy) -> None:
    root = repository_copy()
    edit_card(root / "micro-cnn" / "1", input={"height": 40, "width": 40})
    mv = models(root)["micro-cnn"]
    with FakeTFServing(root) as server:
        backend = make_backend(root, server.target)
        with pytest.raises(
            SignatureMismatch, match=r"shape \[\?, 48, 48, 1\], mmed.json says \[batch, 40, 40, 1\]"
        ):
            run(backend, [mv], lambda b: b.predict(mv, crops(1, side=40)))
        assert server.calls["Predict"] == 0


def test_signature_mismatch_found_later_keeps_the_model_unready(repository_copy, free_port) -> None:
    root = repository_copy()
    edit_card(root / "masked-cnn" / "1", classes=["a", "b", "c"])
    mv = models(root)["masked-cnn"]
    backend = make_backend(root, f"127.0.0.1:{free_port}")
    server = FakeTFServing(root, port=free_port)

    async def body(b: TFServingBackend) -> None:
        server.start()
        for _ in range(50):  # readiness finds the model AVAILABLE, checks it, refuses it
            assert not await b.ready([mv])
            if server.calls["GetModelMetadata"]:
                break
            await asyncio.sleep(0.1)
        assert server.calls["GetModelMetadata"] == 1
        with pytest.raises(SignatureMismatch, match="3 classes") as info:
            await b.predict(mv, crops(1))
        assert info.value.status == 503

    try:
        run(backend, [mv], body)
    finally:
        server.stop()
    assert server.calls["GetModelMetadata"] == 1 and server.calls["Predict"] == 0
