"""In-process TensorFlow: the default backend, no other server needed."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import numpy as np

from model_artifact import ModelVersion
from service.backends.base import Backend, BackendError, ModelNotServed
from service.backends.batching import MicroBatcher
from service.backends.runtimes import Runtime, RuntimeName, load_runtime
from service.metrics import Metrics
from service.settings import Settings

log = logging.getLogger("mmed.backend.embedded")


class EmbeddedBackend(Backend):
    """Loads SavedModels and runs them in worker threads, as TFLite (converted at load, kept
    only when it matches the signature) or as the signature itself (``MMED_EMBEDDED_RUNTIME``,
    ``service/backends/runtimes.py``).

    Models given to ``start`` are loaded and warmed up eagerly (readiness waits for them);
    any other catalogued version is loaded on first use. Concurrent requests for one model
    version are micro-batched (``MicroBatcher``: merged while a call is running, up to
    ``max_batch`` rows, ``MMED_EMBEDDED_MAX_BATCH``; 0 turns it off). Every failure counts in
    ``mmed_backend_errors{backend="embedded", code=...}``: ``LOAD_FAILED`` for a model that
    cannot be loaded, else the TensorFlow error's canonical code (``INVALID_ARGUMENT``, ...).
    """

    name = "embedded"

    def __init__(
        self,
        settings: Settings | None = None,
        metrics: Metrics | None = None,
        *,
        max_batch: int | None = None,
    ) -> None:
        settings = settings or Settings()
        self._fns: dict[tuple[str, int], Runtime] = {}
        self.runtime: RuntimeName = settings.embedded_runtime
        self._lock = threading.Lock()
        self.max_batch = settings.embedded_max_batch if max_batch is None else max_batch
        self.metrics = metrics or Metrics()
        self._batchers: dict[tuple[str, int], MicroBatcher] = {}

    async def start(self, models: list[ModelVersion]) -> None:
        for model in models:
            await asyncio.to_thread(self._load, model)

    def _load(self, model: ModelVersion) -> Runtime:
        key = (model.name, model.version)
        with self._lock:
            if key in self._fns:
                return self._fns[key]
            import tensorflow as tf

            started = time.perf_counter()
            try:
                runtime = load_runtime(model, self.runtime)  # warmed up on a probe batch
            except (OSError, KeyError, ValueError, tf.errors.OpError) as exc:
                self._count("LOAD_FAILED")
                raise ModelNotServed(f"cannot load {model.name}/{model.version}: {exc}") from exc
            self._fns[key] = runtime
            log.info(
                "loaded %s/%s (%s) in %.0f ms",
                model.name,
                model.version,
                runtime.name,
                (time.perf_counter() - started) * 1000,
            )
            return runtime

    def _run(self, model: ModelVersion, batch: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        runtime = self._fns.get((model.name, model.version)) or self._load(model)
        try:
            return runtime.run(batch)
        except (tf.errors.OpError, ValueError, TypeError, RuntimeError) as exc:
            self._count(error_code(exc))
            raise BackendError(f"{model.name}/{model.version} failed: {exc}") from exc

    async def predict(self, model: ModelVersion, batch: np.ndarray) -> np.ndarray:
        if self.max_batch <= 0:
            return await asyncio.to_thread(self._run, model, batch)
        key = (model.name, model.version)
        batcher = self._batchers.get(key)
        if batcher is None:
            batcher = MicroBatcher(lambda rows: self._run(model, rows), self.max_batch)
            self._batchers[key] = batcher
        return await batcher.submit(batch)

    def batchers(self) -> dict[tuple[str, int], MicroBatcher]:
        """The micro-batcher of each model version used so far (its call and row counts)."""
        return dict(self._batchers)

    async def ready(self, models: list[ModelVersion]) -> bool:
        return all((m.name, m.version) in self._fns for m in models)

    def runtime_of(self, model: ModelVersion) -> str | None:
        loaded = self._fns.get((model.name, model.version))
        return None if loaded is None else loaded.name

    def loaded(self) -> set[tuple[str, int]]:
        return set(self._fns)

    def _count(self, code: str) -> None:
        self.metrics.backend_errors.labels(self.name, code).inc()


def error_code(exc: Exception) -> str:
    """The canonical (gRPC) code name of a TensorFlow error, as TF Serving would report it;
    ``INVALID_ARGUMENT`` for the ValueError/TypeError of a batch the signature rejects."""
    import grpc

    code = getattr(exc, "error_code", None)
    if code is None:
        return "INVALID_ARGUMENT"
    return next((c.name for c in grpc.StatusCode if c.value[0] == code), "UNKNOWN")
