"""The TF Serving test double answers like tensorflow_model_server (codes, messages, payloads)."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import grpc
import numpy as np
import pytest
import tensorflow as tf
from fake_server import FakeTFServing, load_saved_model
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from model_artifact import ModelRepository
from model_artifact.serving_config import BatchingParameters

AVAILABLE = get_model_status_pb2.ModelVersionStatus.AVAILABLE
LOADING = get_model_status_pb2.ModelVersionStatus.LOADING


@pytest.fixture
def stubs(fake_tfs: FakeTFServing) -> Iterator[SimpleNamespace]:
    """Plain (synchronous) gRPC calls to the fake: ``predict``, ``metadata``, ``status``."""
    with grpc.insecure_channel(fake_tfs.target) as channel:
        prediction = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        yield SimpleNamespace(
            predict=prediction.Predict,
            metadata=prediction.GetModelMetadata,
            status=model_service_pb2_grpc.ModelServiceStub(channel).GetModelStatus,
        )


def crops(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 48, 48, 1), dtype=np.uint8)


def predict_request(
    name: str = "micro-cnn", array: np.ndarray | None = None, **spec: object
) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    for key, value in spec.items():
        if key == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, key, value)
    request.inputs["image"].CopyFrom(tf.make_tensor_proto(crops(2) if array is None else array))
    return request


def rpc_error(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call(request, timeout=10)
    return info.value


def test_predict_runs_the_saved_model_and_answers_with_float_val(stubs, tiny_repository) -> None:
    predict = stubs.predict
    batch = crops(3)
    response = predict(predict_request(array=batch, version=1), timeout=10)
    out = response.outputs["probabilities"]
    assert not out.tensor_content and len(out.float_val) == 3 * 5  # AsProtoField, as TF Serving
    assert response.model_spec.name == "micro-cnn" and response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"
    loaded, _ = load_saved_model(str(tiny_repository / "micro-cnn" / "1"))
    expected = loaded.signatures["serving_default"](image=tf.constant(batch))["probabilities"]
    np.testing.assert_allclose(tf.make_ndarray(out), expected.numpy(), atol=1e-6)


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        (
            {"version": 7},
            grpc.StatusCode.NOT_FOUND,
            "Servable not found for request: Specific(micro-cnn, 7)",
        ),
        ({}, grpc.StatusCode.OK, ""),
        (
            {"version_label": "stable"},
            grpc.StatusCode.INVALID_ARGUMENT,
            "Unrecognized servable version label: stable",
        ),
        (
            {"signature_name": "serve_x"},
            grpc.StatusCode.FAILED_PRECONDITION,
            'Serving signature key "serve_x" not found.',
        ),
    ],
)
def test_model_spec_errors(stubs, spec, code, message) -> None:
    predict = stubs.predict
    if code == grpc.StatusCode.OK:
        assert predict(predict_request(**spec), timeout=10).model_spec.version.value == 1
        return
    err = rpc_error(predict, predict_request(**spec))
    assert err.code() == code and err.details() == message


def test_unknown_model_is_not_found_latest(stubs) -> None:
    predict = stubs.predict
    err = rpc_error(predict, predict_request("micro-nope"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert err.details() == "Servable not found for request: Latest(micro-nope)"


def test_input_validation_like_tf_serving(stubs) -> None:
    predict = stubs.predict
    wrong_key = predict_pb2.PredictRequest()
    wrong_key.model_spec.name = "micro-cnn"
    wrong_key.inputs["pixels"].CopyFrom(tf.make_tensor_proto(crops(1)))
    err = rpc_error(predict, wrong_key)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details().startswith("input tensor alias not found in signature: pixels.")

    two = predict_request()
    two.inputs["extra"].CopyFrom(tf.make_tensor_proto(crops(1)))
    err = rpc_error(predict, two)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input size does not match signature: 2!=1" in err.details()
    assert "Sent extra: {extra}" in err.details()

    err = rpc_error(predict, predict_request(array=crops(2).astype(np.float32)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == "Expects arg[0] to be uint8 but float is provided"

    err = rpc_error(predict, predict_request(array=crops(2)[:, :40, :40]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "[2, 40, 40, 1] is incompatible" in err.details()

    broken = predict_request()
    broken.inputs["image"].tensor_content = b"\x00" * 7
    err = rpc_error(predict, broken)
    assert (err.code(), err.details()) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "tensor parsing error: image",
    )

    bad_filter = predict_request()
    bad_filter.output_filter.append("logits")
    err = rpc_error(predict, bad_filter)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details().startswith("output tensor alias not found in signature: logits")


def test_metadata_is_the_saved_models_signature_def_map(stubs, tiny_repository) -> None:
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    request.model_spec.name = "masked-cnn"
    response = stubs.metadata(request, timeout=10)
    assert response.model_spec.version.value == 1
    sigmap = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(sigmap)
    sig = sigmap.signature_def["serving_default"]
    assert sig.inputs["image"].dtype == tf.uint8.as_datatype_enum
    assert [d.size for d in sig.inputs["image"].tensor_shape.dim] == [-1, 48, 48, 1]
    assert [d.size for d in sig.outputs["probabilities"].tensor_shape.dim] == [-1, 2]
    _, on_disk = load_saved_model(str(tiny_repository / "masked-cnn" / "1"))
    assert sig == on_disk["serving_default"]

    request.metadata_field[:] = ["inputs"]
    err = rpc_error(stubs.metadata, request)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == "Metadata field inputs is not supported"


def test_model_status_states_and_not_found(stubs, fake_tfs) -> None:
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "micro-cnn"
    (status,) = stubs.status(request, timeout=10).model_version_status
    assert (status.version, status.state) == (1, AVAILABLE)
    fake_tfs.set_state("micro-cnn", 1, LOADING)
    request.model_spec.version.value = 1
    assert stubs.status(request, timeout=10).model_version_status[0].state == LOADING
    # A version that is not AVAILABLE cannot serve.
    err = rpc_error(stubs.predict, predict_request(version=1))
    assert err.code() == grpc.StatusCode.NOT_FOUND

    request.model_spec.version.value = 9
    err = rpc_error(stubs.status, request)
    assert (err.code(), err.details()) == (
        grpc.StatusCode.NOT_FOUND,
        "Could not find version 9 of model micro-cnn",
    )
    request.model_spec.name = "micro-nope"
    request.model_spec.ClearField("version")
    err = rpc_error(stubs.status, request)
    assert err.details() == "Could not find any versions of model micro-nope"


def test_latest_policy_serves_only_the_highest_version(repository_copy) -> None:
    root = repository_copy(micro_v2=True)
    assert ModelRepository(root).versions("micro-cnn") == [1, 2]
    server = FakeTFServing(root)
    assert sorted(server.servables) == [("masked-cnn", 1), ("micro-cnn", 2)]


def test_batch_limit_without_large_batch_splitting(repository_copy) -> None:
    root = repository_copy(
        BatchingParameters(
            max_batch_size=4, allowed_batch_sizes=(4,), enable_large_batch_splitting=False
        )
    )
    with FakeTFServing(root) as server, grpc.insecure_channel(server.target) as channel:
        predict = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict
        assert predict(predict_request(array=crops(4)), timeout=10).outputs
        err = rpc_error(predict, predict_request(array=crops(5)))
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.details() == "Task size 5 is larger than maximum batch size 4"


def test_fault_switches(fake_tfs, stubs) -> None:
    predict = stubs.predict
    fake_tfs.fail_with(grpc.StatusCode.UNAVAILABLE, "down for a bit", count=1, methods=["Predict"])
    err = rpc_error(predict, predict_request())
    assert (err.code(), err.details()) == (grpc.StatusCode.UNAVAILABLE, "down for a bit")
    assert predict(predict_request(), timeout=10).outputs  # count=1: the next call succeeds

    fake_tfs.delay_s = 2.0
    err = rpc_error(lambda r, timeout: predict(r, timeout=0.3), predict_request())
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    fake_tfs.clear_faults()

    port = fake_tfs.port
    fake_tfs.stop()
    err = rpc_error(predict, predict_request())
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    fake_tfs.start()
    assert fake_tfs.port == port
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = "micro-cnn"
    assert stubs.status(request, timeout=10, wait_for_ready=True).model_version_status
