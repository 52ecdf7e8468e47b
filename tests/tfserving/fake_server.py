"""A TEST DOUBLE of TensorFlow Serving's gRPC API — for tests only, not a model server.

``FakeTFServing`` is an in-process ``grpc.server`` built from the servicer base classes that
tensorflow-serving-api generates (``PredictionServiceServicer``, ``ModelServiceServicer``). It
serves the real SavedModels of a model repository the way ``tensorflow_model_server
--model_config_file=<repo>/models.config --batching_parameters_file=<repo>/batching.config``
would: the models and version policies of ``models.config`` (``base_path`` is matched to the
repository folder of the same name), ``serving_default`` run through ``tf.saved_model.load``.

It validates requests as TF Serving does, with its status codes and messages (from
tensorflow_serving/servables/tensorflow/predict_util.cc, get_model_metadata_impl.cc,
model_servers/get_model_status_impl.cc and the batch scheduler):

- unknown model/version: NOT_FOUND ``Servable not found for request: Specific(name, 3)``
  (``Latest(name)`` without a version); unknown label: INVALID_ARGUMENT ``Unrecognized servable
  version label: x``; unknown signature: FAILED_PRECONDITION ``Serving signature key "x" not
  found.``
- input set: INVALID_ARGUMENT ``input size does not match signature: ...`` / ``input tensor alias
  not found in signature: ...``; undecodable tensor: ``tensor parsing error: image``; dtype:
  ``Expects arg[0] to be uint8 but float is provided``; batch over ``max_batch_size`` when large
  batch splitting is off: ``Task size N is larger than maximum batch size M``.
- shape: INVALID_ARGUMENT. TF Serving itself does not check shapes before running the graph (the
  graph's first op fails, also INVALID_ARGUMENT); the double checks against the signature with
  its own message.

Predict answers as TF Serving does by default: outputs as typed value fields (``float_val``),
not ``tensor_content``. Fault switches: ``stop()`` / ``start()`` (same port), ``delay_s``,
``fail_with(code)``, ``set_state(name, version, state)``. What it does not do: REST, batching
(requests run one by one), model reloads from disk, Classify/Regress/MultiInference.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from google.protobuf import text_format
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from tensorflow_serving.config import model_server_config_pb2

from model_artifact import ModelRepository
from model_artifact.serving_config import MODELS_CONFIG, read_batching

State = get_model_status_pb2.ModelVersionStatus.State
AVAILABLE = get_model_status_pb2.ModelVersionStatus.AVAILABLE
DEFAULT_SIGNATURE = "serving_default"
MAX_MESSAGE = 2**31 - 1  # tensorflow_model_server's gRPC limit (INT32_MAX)


class _Abort(Exception):
    """Raised inside a handler to answer with a status (``context.abort`` raises too)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


@functools.cache
def load_saved_model(path: str) -> tuple[Any, dict[str, meta_graph_pb2.SignatureDef]]:
    """The loaded SavedModel (kept alive) and its ``serve`` MetaGraph's SignatureDefs."""
    import tensorflow as tf

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((Path(path) / "saved_model.pb").read_bytes())
    graph = next(g for g in proto.meta_graphs if "serve" in g.meta_info_def.tags)
    return tf.saved_model.load(path), dict(graph.signature_def)


@dataclass
class Servable:
    name: str
    version: int
    path: Path
    state: int = AVAILABLE
    signature_defs: dict[str, meta_graph_pb2.SignatureDef] = field(default_factory=dict)
    loaded: Any = None

    def load(self) -> None:
        self.loaded, self.signature_defs = load_saved_model(str(self.path))


@dataclass
class Fault:
    code: grpc.StatusCode
    details: str
    remaining: int | None  # None: until cleared
    methods: frozenset[str] | None  # None: every method


def served_versions(policy: Any, on_disk: list[int]) -> list[int]:
    """Versions a ``ServableVersionPolicy`` keeps loaded (latest 1 by default)."""
    which = policy.WhichOneof("policy_choice")
    if which == "all":
        return list(on_disk)
    if which == "specific":
        return [v for v in on_disk if v in set(policy.specific.versions)]
    keep = policy.latest.num_versions if which == "latest" else 1
    return on_disk[-max(1, keep) :]


class FakeTFServing(
    prediction_service_pb2_grpc.PredictionServiceServicer,
    model_service_pb2_grpc.ModelServiceServicer,
):
    """TF Serving's gRPC API over a model repository, on ``127.0.0.1:<port>``."""

    def __init__(
        self,
        repository: Path | str,
        *,
        models: Iterable[str] | None = None,
        max_batch_size: int | None = None,
        port: int = 0,
        workers: int = 8,
    ) -> None:
        """``models`` restricts the models of ``models.config`` (to simulate a missing one);
        ``max_batch_size`` overrides batching.config and enforces the batch limit; ``port`` 0
        picks a free port at the first ``start``."""
        self.repository = ModelRepository(repository)
        config = model_server_config_pb2.ModelServerConfig()
        text_format.Parse((self.repository.root / MODELS_CONFIG).read_text(), config)
        keep = None if models is None else set(models)
        self.servables: dict[tuple[str, int], Servable] = {}
        self.labels: dict[str, dict[str, int]] = {}
        for entry in config.model_config_list.config:
            if keep is not None and entry.name not in keep:
                continue
            folder = Path(entry.base_path).name
            for version in served_versions(
                entry.model_version_policy, self.repository.versions(folder)
            ):
                servable = Servable(
                    entry.name, version, self.repository.root / folder / str(version)
                )
                servable.load()
                self.servables[(entry.name, version)] = servable
            self.labels[entry.name] = dict(entry.version_labels)
        batching = read_batching(self.repository.root)
        if max_batch_size is not None:
            self.max_batch_size: int | None = max_batch_size
        else:
            self.max_batch_size = (
                None if batching.enable_large_batch_splitting else batching.max_batch_size
            )
        self.workers = workers
        self.port = port
        self.delay_s = 0.0
        self.calls: Counter[str] = Counter()
        self.requests: list[predict_pb2.PredictRequest] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: grpc.Server | None = None

    # -- switches ---------------------------------------------------------------------------
    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> FakeTFServing:
        """Listen (again) on the same port; port 0 the first time picks a free one."""
        if self._server is not None:
            return self
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="fake-tfs"),
            options=[
                ("grpc.max_send_message_length", MAX_MESSAGE),
                ("grpc.max_receive_message_length", MAX_MESSAGE),
            ],
        )
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(self, server)
        model_service_pb2_grpc.add_ModelServiceServicer_to_server(self, server)
        port = server.add_insecure_port(f"127.0.0.1:{self.port}")
        if port == 0:
            raise OSError(f"cannot listen on 127.0.0.1:{self.port}")
        self.port = port
        self._stopping.clear()
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        """Close the port and abort calls in flight (a killed server)."""
        self._stopping.set()
        if self._server is not None:
            self._server.stop(grace=None).wait()
            self._server = None

    def fail_with(
        self,
        code: grpc.StatusCode,
        details: str = "injected fault",
        count: int | None = None,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Answer the next ``count`` calls (all, if None) of ``methods`` (all) with ``code``."""
        with self._lock:
            self._faults.append(
                Fault(code, details, count, None if methods is None else frozenset(methods))
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
        self.delay_s = 0.0

    def set_state(self, name: str, version: int, state: int) -> None:
        """Put a served version in another ``ModelVersionStatus`` state (LOADING, END, ...)."""
        self.servables[(name, version)].state = state

    def __enter__(self) -> FakeTFServing:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request plumbing -------------------------------------------------------------------
    def _handle(self, method: str, context: grpc.ServicerContext, fn: Any) -> Any:
        with self._lock:
            self.calls[method] += 1
            fault = next(
                (f for f in self._faults if f.methods is None or method in f.methods), None
            )
            if fault is not None and fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
        if self.delay_s > 0 and self._stopping.wait(self.delay_s):
            # Killed while the call was in flight: the client sees the connection drop, never an
            # answer (answering here would race the server's own cancellation of the call).
            context.abort(grpc.StatusCode.UNAVAILABLE, "Socket closed")
        try:
            if fault is not None:
                raise _Abort(fault.code, fault.details)
            return fn()
        except _Abort as err:
            context.abort(err.code, err.details)

    def _resolve(self, spec: Any) -> Servable:
        """The servable a ModelSpec names, as ServerCore::GetServableHandle finds it."""
        name = spec.name
        which = spec.WhichOneof("version_choice")
        if which == "version_label":
            version = self.labels.get(name, {}).get(spec.version_label)
            if version is None:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"Unrecognized servable version label: {spec.version_label}",
                )
            request = f"Specific({name}, {version})"
        elif which == "version":
            version = spec.version.value
            request = f"Specific({name}, {version})"
        else:
            loaded = [
                v for (n, v), s in self.servables.items() if n == name and s.state == AVAILABLE
            ]
            version = max(loaded, default=None)
            request = f"Latest({name})"
        servable = self.servables.get((name, version)) if version is not None else None
        if servable is None or servable.state != AVAILABLE:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: {request}")
        return servable

    # -- PredictionService ------------------------------------------------------------------
    def Predict(self, request: predict_pb2.PredictRequest, context: grpc.ServicerContext) -> Any:
        return self._handle("Predict", context, lambda: self._predict(request))

    def _predict(self, request: predict_pb2.PredictRequest) -> predict_pb2.PredictResponse:
        import tensorflow as tf

        with self._lock:
            self.requests.append(request)
        servable = self._resolve(request.model_spec)
        signature_name = request.model_spec.signature_name or DEFAULT_SIGNATURE
        signature = servable.signature_defs.get(signature_name)
        if signature is None:
            raise _Abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                f'Serving signature key "{signature_name}" not found.',
            )
        sent, expected = set(request.inputs), set(signature.inputs)
        if len(sent) != len(expected):
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"input size does not match signature: {len(sent)}!={len(expected)} "
                f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(expected))}}}). "
                f"Sent extra: {{{','.join(sorted(sent - expected))}}}. "
                f"Missing but required: {{{','.join(sorted(expected - sent))}}}.",
            )
        feeds: dict[str, np.ndarray] = {}
        for index, (alias, proto) in enumerate(sorted(request.inputs.items())):
            info = signature.inputs.get(alias)
            if info is None:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"input tensor alias not found in signature: {alias}. Inputs expected to "
                    f"be in the set {{{','.join(sorted(expected))}}}.",
                )
            feeds[alias] = self._input(alias, index, proto, info)
        for alias in request.output_filter:
            if alias not in signature.outputs:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"output tensor alias not found in signature: {alias} Outputs expected to "
                    f"be in the set {{{','.join(sorted(signature.outputs))}}}.",
                )
        batch = next(iter(feeds.values())).shape[0] if feeds else 0
        if self.max_batch_size is not None and batch > self.max_batch_size:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Task size {batch} is larger than maximum batch size {self.max_batch_size}",
            )
        fn = servable.loaded.signatures[signature_name]
        outputs = fn(**{k: tf.constant(v) for k, v in feeds.items()})
        response = predict_pb2.PredictResponse()
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        response.model_spec.signature_name = signature_name
        for alias in request.output_filter or sorted(signature.outputs):
            response.outputs[alias].CopyFrom(as_proto_field(np.asarray(outputs[alias])))
        return response

    @staticmethod
    def _input(
        alias: str, index: int, proto: tensor_pb2.TensorProto, info: meta_graph_pb2.TensorInfo
    ) -> np.ndarray:
        import tensorflow as tf

        try:
            array = tf.make_ndarray(proto)
        except (ValueError, TypeError) as exc:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"tensor parsing error: {alias}"
            ) from exc
        if proto.dtype != info.dtype:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Expects arg[{index}] to be {tf_dtype(info.dtype)} but {tf_dtype(proto.dtype)} "
                "is provided",
            )
        want = [d.size for d in info.tensor_shape.dim]
        if not info.tensor_shape.unknown_rank and (
            len(want) != array.ndim
            or any(w not in (-1, a) for w, a in zip(want, array.shape, strict=True))
        ):
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"input {alias}: shape {list(array.shape)} is incompatible with the "
                f"signature's {['?' if w < 0 else w for w in want]}",
            )
        return array

    def GetModelMetadata(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._handle("GetModelMetadata", context, lambda: self._metadata(request))

    def _metadata(self, request: Any) -> get_model_metadata_pb2.GetModelMetadataResponse:
        if not request.HasField("model_spec"):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
        if not request.metadata_field:
            raise _Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "GetModelMetadataRequest must specify at least one metadata_field",
            )
        for name in request.metadata_field:
            if name != "signature_def":
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT, f"Metadata field {name} is not supported"
                )
        servable = self._resolve(request.model_spec)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = servable.name
        response.model_spec.version.value = servable.version
        sigmap = get_model_metadata_pb2.SignatureDefMap()
        for key, sig in servable.signature_defs.items():
            sigmap.signature_def[key].CopyFrom(sig)
        response.metadata["signature_def"].Pack(sigmap)
        return response

    # -- ModelService -----------------------------------------------------------------------
    def GetModelStatus(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._handle("GetModelStatus", context, lambda: self._status(request))

    def _status(self, request: Any) -> get_model_status_pb2.GetModelStatusResponse:
        if not request.HasField("model_spec"):
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "Missing ModelSpec")
        spec = request.model_spec
        response = get_model_status_pb2.GetModelStatusResponse()
        if spec.HasField("version"):
            servable = self.servables.get((spec.name, spec.version.value))
            if servable is None:
                raise _Abort(
                    grpc.StatusCode.NOT_FOUND,
                    f"Could not find version {spec.version.value} of model {spec.name}",
                )
            found = [servable]
        else:
            found = sorted(
                (s for (n, _), s in self.servables.items() if n == spec.name),
                key=lambda s: s.version,
            )
            if not found:
                raise _Abort(
                    grpc.StatusCode.NOT_FOUND, f"Could not find any versions of model {spec.name}"
                )
        for servable in found:
            status = response.model_version_status.add()
            status.version = servable.version
            status.state = servable.state
        return response


def tf_dtype(dtype: int) -> str:
    """TensorFlow's short dtype name (``uint8``, ``float``) as DataTypeString spells it."""
    return types_pb2.DataType.Name(dtype).removeprefix("DT_").lower()


def as_proto_field(array: np.ndarray) -> tensor_pb2.TensorProto:
    """A float32 array as ``Tensor::AsProtoField`` writes it: shape + ``float_val``."""
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT)
    for d in array.shape:
        proto.tensor_shape.dim.add(size=int(d))
    proto.float_val.extend(np.asarray(array, np.float32).ravel().tolist())
    return proto


def wait_until(predicate: Any, timeout_s: float = 10.0, every_s: float = 0.05) -> bool:
    """Poll ``predicate`` until true or ``timeout_s`` passes; its last answer."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every_s)
    return bool(predicate())
