"""TensorFlow Serving over gRPC (``MMED_BACKEND=tfserving``).

One long-lived ``grpc.aio`` channel, created in ``start``, carries every call:

- ``PredictionService.Predict``: model spec (name, explicit version, ``serving_default``), the
  crops as one uint8 ``TensorProto`` built from raw bytes, ``output_filter`` = probabilities.
  Batches larger than the repository's ``batching.config`` ``max_batch_size`` are split and the
  parts sent concurrently (TF Serving's batcher re-assembles them server-side).
- A deadline per call (``MMED_TFSERVING_TIMEOUT_S``) that also bounds its retries: only
  ``UNAVAILABLE`` is retried, at most ``MMED_TFSERVING_RETRIES`` times, with exponential back-off
  and jitter, and never past the deadline.
- ``ModelService.GetModelStatus`` for readiness (every model's version AVAILABLE; answers cached
  for ``READY_CACHE_S``), ``PredictionService.GetModelMetadata`` to check each served version's
  signature against its mmed.json before it is used.

Start-up: an unreachable TF Serving does not stop the gateway (it starts not ready, and the
signature check runs on the first successful readiness check or Predict); a reachable TF Serving
whose signature contradicts mmed.json is a start-up error (``SignatureMismatch``).

Error mapping (gRPC code → HTTP): UNAVAILABLE, CANCELLED, RESOURCE_EXHAUSTED → 503 with
Retry-After; DEADLINE_EXCEEDED → 504; NOT_FOUND → 404 for a version TF Serving does not serve
while it serves a newer one (``VersionNotServed``), else 503 (``ModelNotServed``: model absent
from TF Serving; ``VersionNotLoaded``: a new version not loaded yet); anything else
(INVALID_ARGUMENT, FAILED_PRECONDITION, INTERNAL, ...) is logged and answered 502. Every failed
RPC increments ``mmed_backend_errors{backend="tfserving", code=<gRPC code name>}``; the pipeline
records ``mmed_backend_request_duration_seconds`` per batch.

Message size: gRPC clients default to a 4 MiB receive limit (the cause of most "message larger
than max" reports against TF Serving; its server accepts up to INT32_MAX). The channel's send and
receive limits are set to twice the largest batch any catalogued model can produce
(``max_batch_size`` x its crop bytes), at least ``MIN_MESSAGE_LIMIT``; a model added later with
larger crops is split into smaller calls so that no message ever exceeds the limit.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import numpy as np

from model_artifact import ModelRepository, ModelVersion
from model_artifact.card import INPUT_KEY, OUTPUT_KEY, SIGNATURE
from model_artifact.serving_config import read_batching
from service.backends.base import (
    Backend,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ModelNotServed,
    SignatureMismatch,
    VersionNotLoaded,
    VersionNotServed,
)
from service.backends.tensor_proto import FLOAT, UINT8, decode, dtype_name, encode_uint8, shape_of
from service.metrics import Metrics
from service.settings import Settings

log = logging.getLogger("mmed.backend.tfserving")

MIN_MESSAGE_LIMIT = 32 * 1024 * 1024
MAX_MESSAGE_LIMIT = 2**31 - 1
MESSAGE_HEADROOM = 64 * 1024  # model spec, field tags, the response's model spec
READY_CACHE_S = 1.0
READY_TIMEOUT_S = 1.0
MISMATCH_RECHECK_S = 30.0
BACKOFF_BASE_S = 0.05
BACKOFF_MAX_S = 1.0
# Reconnect quickly after TF Serving restarts (gRPC's default back-off grows to 120 s, during
# which every call fails fast with UNAVAILABLE). A refused connect attempt costs one SYN.
RECONNECT_INITIAL_MS = 200
RECONNECT_MAX_MS = 2000

T = TypeVar("T")
Key = tuple[str, int]


def grpc_target(address: str) -> str:
    """``host:port`` → ``dns:///host:port``: resolve every address of a headless Service (each
    TF Serving pod) so ``round_robin`` spreads calls; explicit ``scheme:`` targets pass as is."""
    if ":///" in address or address.startswith(("dns:", "ipv4:", "ipv6:", "unix:")):
        return address
    return f"dns:///{address}"


def message_limit(max_batch_size: int, crop_bytes: int) -> int:
    """Channel send/receive limit for batches of ``max_batch_size`` crops of ``crop_bytes``."""
    need = 2 * max_batch_size * crop_bytes + MESSAGE_HEADROOM
    return min(MAX_MESSAGE_LIMIT, max(MIN_MESSAGE_LIMIT, need))


def channel_options(limit: int) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_send_message_length", limit),
        ("grpc.max_receive_message_length", limit),
        ("grpc.lb_policy_name", "round_robin"),
        ("grpc.initial_reconnect_backoff_ms", RECONNECT_INITIAL_MS),
        ("grpc.max_reconnect_backoff_ms", RECONNECT_MAX_MS),
    ]


def backoff_s(attempt: int) -> float:
    """Delay before retry ``attempt`` (0-based): exponential, capped, with "equal jitter"."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def signature_problem(model: ModelVersion, response: Any) -> str | None:
    """Why ``GetModelMetadataResponse`` contradicts ``model``'s mmed.json (None: it agrees)."""
    from tensorflow_serving.apis import get_model_metadata_pb2

    where = f"{model.name}/{model.version}"
    if "signature_def" not in response.metadata:
        return f"{where}: GetModelMetadata returned no signature_def"
    sigmap = get_model_metadata_pb2.SignatureDefMap()
    if not response.metadata["signature_def"].Unpack(sigmap):
        return f"{where}: signature_def metadata is not a SignatureDefMap"
    if SIGNATURE not in sigmap.signature_def:
        return f"{where}: no signature {SIGNATURE!r} (has {sorted(sigmap.signature_def)})"
    sig = sigmap.signature_def[SIGNATURE]
    if set(sig.inputs) != {INPUT_KEY}:
        return (
            f"{where}: {SIGNATURE} inputs are {sorted(sig.inputs)}, mmed.json expects {[INPUT_KEY]}"
        )
    spec = model.card.input
    expected = (spec.height, spec.width, spec.channels)
    tensor = sig.inputs[INPUT_KEY]
    if tensor.dtype != UINT8:
        got = dtype_name(tensor.dtype)
        return f"{where}: input {INPUT_KEY!r} is {got}, mmed.json says {spec.dtype}"
    shape = shape_of(tensor.tensor_shape)
    if shape is None or len(shape) != 4 or not _dims_match(shape[1:], expected):
        return (
            f"{where}: input {INPUT_KEY!r} has shape {_fmt(shape)}, mmed.json says "
            f"[batch, {spec.height}, {spec.width}, {spec.channels}]"
        )
    if OUTPUT_KEY not in sig.outputs:
        return f"{where}: {SIGNATURE} has no output {OUTPUT_KEY!r} (has {sorted(sig.outputs)})"
    out = sig.outputs[OUTPUT_KEY]
    classes = len(model.card.classes)
    out_shape = shape_of(out.tensor_shape)
    if out.dtype != FLOAT:
        return f"{where}: output {OUTPUT_KEY!r} is {dtype_name(out.dtype)}, expected DT_FLOAT"
    if out_shape is None or len(out_shape) != 2 or not _dims_match(out_shape[1:], (classes,)):
        return (
            f"{where}: output {OUTPUT_KEY!r} has shape {_fmt(out_shape)}, mmed.json lists "
            f"{classes} classes"
        )
    return None


def _dims_match(actual: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return len(actual) == len(expected) and all(
        a in (-1, e) for a, e in zip(actual, expected, strict=True)
    )


def _fmt(shape: tuple[int, ...] | None) -> str:
    return (
        "unknown"
        if shape is None
        else "[" + ", ".join("?" if d < 0 else str(d) for d in shape) + "]"
    )


class TFServingBackend(Backend):
    """Predicts through TensorFlow Serving's gRPC API (see the module docstring)."""

    name = "tfserving"

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.address = settings.tfserving_grpc
        self.target = grpc_target(settings.tfserving_grpc)
        self.timeout_s = settings.tfserving_timeout_s
        self.retries = settings.tfserving_retries
        self.ready_timeout_s = min(READY_TIMEOUT_S, self.timeout_s)
        self.metrics = metrics
        self.max_batch_size = read_batching(settings.model_repository).max_batch_size
        self.message_limit = message_limit(
            self.max_batch_size, _largest_crop_bytes(settings.model_repository)
        )
        self._channel: grpc.aio.Channel | None = None
        self._predict_stub: Any = None
        self._status_stub: Any = None
        self._verified: set[Key] = set()
        self._mismatch: dict[Key, tuple[float, str]] = {}
        self._verify_locks: dict[Key, asyncio.Lock] = {}
        self._ready_cache: dict[Key, tuple[float, bool]] = {}
        self._ready_inflight: dict[Key, asyncio.Future[bool]] = {}
        self._last_ready: dict[Key, bool] = {}

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self, models: list[ModelVersion]) -> None:
        from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

        self._channel = grpc.aio.insecure_channel(
            self.target, options=channel_options(self.message_limit)
        )
        self._predict_stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._status_stub = model_service_pb2_grpc.ModelServiceStub(self._channel)
        log.info(
            "TF Serving at %s (max batch %d, message limit %d B, deadline %.3g s, %d retries)",
            self.target,
            self.max_batch_size,
            self.message_limit,
            self.timeout_s,
            self.retries,
        )
        results = await asyncio.gather(*(self._verify(m) for m in models), return_exceptions=True)
        for model, result in zip(models, results, strict=True):
            if isinstance(result, SignatureMismatch) or (
                isinstance(result, BaseException) and not isinstance(result, BackendError)
            ):
                await self.close()
                raise result
            if isinstance(result, BackendError):
                log.warning(
                    "signature of %s/%s not checked at start-up (%s); checking again on the "
                    "next readiness check or request",
                    model.name,
                    model.version,
                    result,
                )

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    # -- readiness --------------------------------------------------------------------------
    def runtime_of(self, model: ModelVersion) -> str | None:
        return "tfserving"  # the server runs the float SavedModel

    async def ready(self, models: list[ModelVersion]) -> bool:
        if self._channel is None:
            return False
        answers = await asyncio.gather(*(self._model_ready(m) for m in models))
        return all(answers)

    async def _model_ready(self, model: ModelVersion) -> bool:
        key = (model.name, model.version)
        cached = self._ready_cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < READY_CACHE_S:
            return cached[1]
        inflight = self._ready_inflight.get(key)
        if inflight is None:  # one status call per model at a time, however many callers
            inflight = asyncio.ensure_future(self._check_ready(model))
            self._ready_inflight[key] = inflight
            inflight.add_done_callback(lambda _: self._ready_inflight.pop(key, None))
        ok = await asyncio.shield(inflight)
        self._ready_cache[key] = (time.monotonic(), ok)
        if self._last_ready.get(key) != ok:
            self._last_ready[key] = ok
            log.info(
                "%s/%s %s on TF Serving", model.name, model.version, "ready" if ok else "not ready"
            )
        return ok

    async def _check_ready(self, model: ModelVersion) -> bool:
        from tensorflow_serving.apis import get_model_status_pb2

        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = model.name
        request.model_spec.version.value = model.version
        try:
            response = await self._status_stub.GetModelStatus(request, timeout=self.ready_timeout_s)
        except grpc.aio.AioRpcError as exc:
            self._count(exc.code())
            log.debug("GetModelStatus %s/%s: %s", model.name, model.version, exc.code().name)
            return False
        available = any(
            s.version == model.version
            and s.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
            for s in response.model_version_status
        )
        if not available:
            return False
        try:
            await self._verify(model, timeout_s=self.ready_timeout_s)
        except BackendError as exc:
            if isinstance(exc, SignatureMismatch):
                log.error("not ready: %s", exc)
            return False
        return True

    # -- signature check --------------------------------------------------------------------
    async def _verify(self, model: ModelVersion, timeout_s: float | None = None) -> None:
        """GetModelMetadata once per served version; raise ``SignatureMismatch`` on conflict."""
        from tensorflow_serving.apis import get_model_metadata_pb2

        key = (model.name, model.version)
        if key in self._verified:
            return
        self._raise_known_mismatch(key)
        lock = self._verify_locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key in self._verified:
                return
            self._raise_known_mismatch(key)
            request = get_model_metadata_pb2.GetModelMetadataRequest(
                metadata_field=["signature_def"]
            )
            request.model_spec.name = model.name
            request.model_spec.version.value = model.version
            response = await self._call(
                self._predict_stub.GetModelMetadata, request, model, timeout_s
            )
            problem = signature_problem(model, response)
            if problem is not None:
                self._mismatch[key] = (time.monotonic(), problem)
                raise SignatureMismatch(f"TF Serving at {self.address} serves {problem}")
            self._verified.add(key)
            log.info("%s/%s: TF Serving signature matches mmed.json", model.name, model.version)

    def _raise_known_mismatch(self, key: Key) -> None:
        known = self._mismatch.get(key)
        if known is not None and time.monotonic() - known[0] < MISMATCH_RECHECK_S:
            raise SignatureMismatch(f"TF Serving at {self.address} serves {known[1]}")

    # -- predict ----------------------------------------------------------------------------
    def rows_per_call(self, model: ModelVersion) -> int:
        """Crops per Predict: ``max_batch_size``, fewer if the message would exceed the limit."""
        spec = model.card.input
        crop = spec.height * spec.width * spec.channels
        return max(1, min(self.max_batch_size, (self.message_limit - MESSAGE_HEADROOM) // crop))

    async def predict(self, model: ModelVersion, batch: np.ndarray) -> np.ndarray:
        if self._channel is None:
            raise BackendUnavailable("the TF Serving backend is not started")
        await self._verify(model)
        rows = self.rows_per_call(model)
        if len(batch) <= rows:
            return await self._predict_part(model, batch)
        parts = [
            asyncio.ensure_future(self._predict_part(model, batch[i : i + rows]))
            for i in range(0, len(batch), rows)
        ]
        try:
            results = await asyncio.gather(*parts)
        except BaseException:
            for part in parts:
                part.cancel()
            raise
        return np.concatenate(results)

    async def _predict_part(self, model: ModelVersion, batch: np.ndarray) -> np.ndarray:
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest(output_filter=[OUTPUT_KEY])
        request.model_spec.name = model.name
        request.model_spec.version.value = model.version
        request.model_spec.signature_name = SIGNATURE
        request.inputs[INPUT_KEY].CopyFrom(encode_uint8(batch))
        response = await self._call(self._predict_stub.Predict, request, model)
        if OUTPUT_KEY not in response.outputs:
            raise self._bad_answer(model, f"no output {OUTPUT_KEY!r} in {sorted(response.outputs)}")
        probs = decode(response.outputs[OUTPUT_KEY]).astype(np.float32, copy=False)
        if probs.shape != (len(batch), len(model.card.classes)):
            raise self._bad_answer(
                model,
                f"output shape {probs.shape}, expected {(len(batch), len(model.card.classes))}",
            )
        return probs

    def _bad_answer(self, model: ModelVersion, what: str) -> BackendError:
        self._count(None)
        log.error("TF Serving answered %s/%s with %s", model.name, model.version, what)
        return BackendError(f"TF Serving answered {model.name}/{model.version} with {what}")

    # -- calls, retries, errors -------------------------------------------------------------
    async def _call(
        self,
        method: Callable[..., Awaitable[T]],
        request: Any,
        model: ModelVersion,
        timeout_s: float | None = None,
    ) -> T:
        """One unary call under one deadline; UNAVAILABLE retried with back-off within it."""
        timeout_s = timeout_s or self.timeout_s
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        attempt = 0
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise self._timeout(model, timeout_s)
            try:
                return await method(request, timeout=remaining)
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                self._count(code)
                if code == grpc.StatusCode.UNAVAILABLE and attempt < self.retries:
                    delay = backoff_s(attempt)
                    if loop.time() + delay < deadline:
                        attempt += 1
                        log.info(
                            "TF Serving unavailable (%s); retry %d/%d in %.0f ms",
                            exc.details(),
                            attempt,
                            self.retries,
                            delay * 1000,
                        )
                        await asyncio.sleep(delay)
                        continue
                raise await self._map_error(exc, model, timeout_s, attempt) from exc

    def _count(self, code: grpc.StatusCode | None) -> None:
        self.metrics.backend_errors.labels(self.name, code.name if code else "BAD_ANSWER").inc()

    def _timeout(self, model: ModelVersion, timeout_s: float) -> BackendTimeout:
        return BackendTimeout(
            f"TF Serving at {self.address} did not answer for {model.name}/{model.version} "
            f"within {timeout_s:g} s"
        )

    async def _map_error(
        self, exc: grpc.aio.AioRpcError, model: ModelVersion, timeout_s: float, retries: int
    ) -> BackendError:
        code, details = exc.code(), exc.details()
        where = f"{model.name}/{model.version}"
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return self._timeout(model, timeout_s)
        if code in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.CANCELLED,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        ):
            tried = f" after {retries} retries" if retries else ""
            return BackendUnavailable(
                f"TF Serving at {self.address} is unavailable for {where}{tried}: "
                f"{code.name}: {details}"
            )
        if code == grpc.StatusCode.NOT_FOUND:
            return await self._not_found(model, details or "")
        log.error("TF Serving rejected a call for %s: %s: %s", where, code.name, details)
        return BackendError(f"TF Serving rejected the call for {where}: {code.name}: {details}")

    async def _not_found(self, model: ModelVersion, details: str) -> BackendError:
        """Tell a missing model (503) from an old version (404) or one still loading (503)."""
        from tensorflow_serving.apis import get_model_status_pb2

        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = model.name
        try:
            status = await self._status_stub.GetModelStatus(request, timeout=self.ready_timeout_s)
        except grpc.aio.AioRpcError as exc:
            self._count(exc.code())
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return ModelNotServed(
                    f"TF Serving at {self.address} does not serve model {model.name!r}, which "
                    f"the model repository holds (deployment mismatch: is it in models.config?): "
                    f"{details}"
                )
            return ModelNotServed(
                f"TF Serving does not serve {model.name}/{model.version}: {details}"
            )
        available = sorted(
            s.version
            for s in status.model_version_status
            if s.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
        )
        if available and model.version < available[-1]:
            return VersionNotServed(
                f"version {model.version} of model {model.name!r} is in the repository but TF "
                f"Serving serves only version(s) {available}; omit `version` for the latest"
            )
        states = {
            s.version: get_model_status_pb2.ModelVersionStatus.State.Name(s.state)
            for s in status.model_version_status
        }
        return VersionNotLoaded(
            f"version {model.version} of model {model.name!r} is not loaded in TF Serving yet "
            f"(versions: {states or 'none'}); retry shortly",
            available,
        )


def _largest_crop_bytes(root: Any) -> int:
    """Bytes of the largest crop any catalogued model takes (0 for an empty repository)."""
    try:
        cards = [mv.card.input for mv in ModelRepository(root).all_versions()]
    except (OSError, ValueError) as exc:
        log.warning("cannot read the model repository for message limits: %s", exc)
        return 0
    return max((c.height * c.width * c.channels for c in cards), default=0)
