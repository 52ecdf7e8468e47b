"""The backend interface every inference backend implements.

A backend knows nothing of HTTP, media or faces: it turns a uint8 batch of grey crops
``[N, H, W, 1]`` into float32 softmax probabilities ``[N, K]`` for one catalogued model version.
"""

from __future__ import annotations

import abc

import numpy as np

from model_artifact import ModelVersion


class BackendError(Exception):
    """The backend failed in a way that is not the client's fault (problem+json 502)."""

    status = 502
    title = "Backend error"


class BackendUnavailable(BackendError):
    """The backend cannot be reached or the model is not loaded (503 + Retry-After)."""

    status = 503
    title = "Backend unavailable"


class BackendTimeout(BackendError):
    """The backend did not answer within its deadline (504)."""

    status = 504
    title = "Backend timeout"


class ModelNotServed(BackendError):
    """The backend does not serve a model the catalogue lists (503: deployment mismatch)."""

    status = 503
    title = "Model not served by the backend"


class VersionNotLoaded(ModelNotServed):
    """The backend serves the model but not this version yet (503): e.g. TF Serving still
    loading a version the catalogue already lists. ``available``: the versions it serves."""

    def __init__(self, detail: str, available: list[int]) -> None:
        super().__init__(detail)
        self.available = available


class VersionNotServed(BackendError):
    """The model is served, but not this version (404): e.g. TF Serving with the ``latest``
    version policy serves only the highest version while the catalogue lists every one."""

    status = 404
    title = "Model version not served"


class SignatureMismatch(ModelNotServed):
    """The backend serves a model whose signature contradicts its mmed.json (input name, dtype,
    shape, output). Raised by ``start`` as a start-up error; later, a 503 for that model."""

    title = "Model signature mismatch"


class Backend(abc.ABC):
    """Lifecycle: ``await start(models)`` once, ``predict`` many times, ``await close()``."""

    name: str = "backend"

    @abc.abstractmethod
    async def start(self, models: list[ModelVersion]) -> None:
        """Load or check ``models`` (warming them up); raise on a fatal configuration error."""

    @abc.abstractmethod
    async def predict(self, model: ModelVersion, batch: np.ndarray) -> np.ndarray:
        """Probabilities ``[N, K]`` (float32) for ``batch`` ``[N, H, W, 1]`` (uint8).

        Must not block the event loop. Raises a ``BackendError`` subclass on failure.
        """

    @abc.abstractmethod
    async def ready(self, models: list[ModelVersion]) -> bool:
        """True when every model in ``models`` can be served right now."""

    def runtime_of(self, model: ModelVersion) -> str | None:
        """What runs ``model`` here (e.g. the embedded ``int8``); None until it is loaded."""
        return None

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release channels, sessions and threads."""
