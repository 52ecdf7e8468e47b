"""Inference backends: where a batch of face crops becomes class probabilities."""

from service.backends.base import Backend, BackendError, BackendTimeout, BackendUnavailable

__all__ = ["Backend", "BackendError", "BackendTimeout", "BackendUnavailable"]
