"""How the embedded backend runs a SavedModel's serving signature in-process.

Three runtimes, one call shape (``run(uint8 batch) -> float32 probabilities``):

- ``int8`` (the default): the version's int8 companion (``model_artifact.quantized``: made by
  ``python -m training quantize``, calibrated on its training crops, its agreement with the
  float model measured on held-out faces and recorded beside it), run by the TFLite
  interpreter; kept only when its checksums hold and it answers the recorded probe as recorded.
  About a quarter of the float model's CPU on a CPU with 8-bit dot-product instructions (VNNI),
  no less without them (``service.backends.cpu``; a warning is logged). A version
  without a companion, or with one that fails those checks, runs as ``tflite`` (logged).
- ``SavedModelRuntime``: ``tf.saved_model.load`` and the signature (what TF Serving runs).
- ``LiteRuntime``: the same SavedModel converted at load time with ``tf.lite.TFLiteConverter``
  (no file is written; the conversion is kept in memory, once per process and model content;
  the artifact stays the SavedModel) and run by the TFLite interpreter with XNNPACK. On
  these small CNNs it takes about half the CPU of the signature per batch.
  ``load_runtime`` keeps it only if it agrees with the signature on a probe batch within
  ``PARITY_ATOL``; a model that does not convert or does not agree runs as a SavedModel.

``MMED_EMBEDDED_RUNTIME`` picks one (``int8``, ``tflite`` or ``savedmodel``); ``tflite`` and
``savedmodel`` give TF Serving's answers (within ``PARITY_ATOL``), ``int8`` within what its
companion records.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from model_artifact import ModelVersion
from model_artifact.card import INPUT_KEY, OUTPUT_KEY, SIGNATURE
from model_artifact.quantized import (
    PROBE_ATOL,
    CompanionError,
    probe_batch,
    read_int8,
    renormalised,
)
from service.backends.cpu import int8_dot_product

log = logging.getLogger("mmed.backend.embedded")

RuntimeName = Literal["int8", "tflite", "savedmodel"]
PARITY_ATOL = 1e-4  # largest probability difference a converted model may show on the probe


class Runtime(Protocol):
    name: str

    def run(self, batch: np.ndarray) -> np.ndarray: ...


class SavedModelRuntime:
    """The SavedModel's serving signature, called eagerly (thread-safe)."""

    name = "savedmodel"

    def __init__(self, model: ModelVersion) -> None:
        import tensorflow as tf

        # Keep the loaded object alive: the signature holds only a weak reference to it.
        self._loaded = tf.saved_model.load(str(model.path))
        self._fn = self._loaded.signatures[SIGNATURE]

    def run(self, batch: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        out = self._fn(**{INPUT_KEY: tf.constant(batch, dtype=tf.uint8)})[OUTPUT_KEY]
        return np.asarray(out, dtype=np.float32)


class LiteRuntime:
    """The serving signature converted to TFLite (or ``flatbuffer``: the int8 companion); one
    interpreter, calls serialised by a lock (an interpreter is not thread-safe; the
    micro-batcher merges concurrent rows anyway)."""

    name = "tflite"

    def __init__(
        self, model: ModelVersion, key: str | None = None, *, flatbuffer: bytes | None = None
    ) -> None:
        import tensorflow as tf

        if flatbuffer is None:
            flatbuffer = _converted(model, key)
        else:
            self.name = "int8"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "tf.lite.Interpreter is deprecated"
            self._it = tf.lite.Interpreter(
                model_content=flatbuffer, num_threads=min(4, os.cpu_count() or 1)
            )
        runner = self._it.get_signature_runner(SIGNATURE)
        details = runner.get_input_details()[INPUT_KEY]
        self._in = details["index"]
        self._row_shape = tuple(int(d) for d in details["shape_signature"][1:])  # (H, W, 1)
        out = runner.get_output_details()[OUTPUT_KEY]
        self._out = out["index"]
        self._classes = int(out["shape_signature"][-1])
        self._shape: tuple[int, ...] | None = None
        self._lock = threading.Lock()

    def run(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.uint8)
        if batch.ndim != 4 or batch.shape[1:] != self._row_shape:
            # TFLite would reshape a wrong batch silently; the signature rejects it
            raise ValueError(f"batch of shape {batch.shape}: expected (N, *{self._row_shape})")
        if not len(batch):
            return np.zeros((0, self._classes), np.float32)
        with self._lock:
            if batch.shape != self._shape:
                self._shape = None  # until the new shape is allocated
                self._it.resize_tensor_input(self._in, list(batch.shape), strict=False)
                self._it.allocate_tensors()
                self._shape = batch.shape
            self._it.set_tensor(self._in, batch)
            self._it.invoke()
            out = np.array(self._it.get_tensor(self._out), dtype=np.float32)
        return renormalised(out) if self.name == "int8" else out


_CONVERTED: dict[str, bytes] = {}
_AGREES: dict[str, bool] = {}  # content key -> the TFLite conversion passed the parity probe
_CONVERTED_LOCK = threading.Lock()


def content_key(model: ModelVersion) -> str:
    """A SHA-256 of the SavedModel's files (names and bytes): equal for copies of a version."""
    root = Path(model.path)
    digest = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


def _converted(model: ModelVersion, key: str | None = None) -> bytes:
    """The model's serving signature as a TFLite flatbuffer, converted once per process and
    SavedModel content (a gateway or a test that starts many backends, or copies a
    repository, converts each model once; ~1 s each)."""
    import tensorflow as tf

    key = key or content_key(model)
    with _CONVERTED_LOCK:
        if key not in _CONVERTED:
            converter = tf.lite.TFLiteConverter.from_saved_model(
                str(model.path), signature_keys=[SIGNATURE]
            )
            _CONVERTED[key] = converter.convert()
        return _CONVERTED[key]


def load_runtime(model: ModelVersion, wanted: RuntimeName) -> Runtime:
    """``wanted`` for ``model``, warmed up; TFLite falls back to the SavedModel (logged) when
    it cannot convert the model or disagrees with it on a probe batch. The probe's verdict is
    kept per process and model content, like the conversion: a model content that passed it
    once starts as TFLite without loading the SavedModel again. ``int8`` falls back to
    ``tflite`` where the version has no usable int8 companion (``_int8``)."""
    if wanted == "int8":
        lite = _int8(model)
        if lite is not None:
            return lite
        wanted = "tflite"
    key = content_key(model) if wanted == "tflite" else ""
    if key and _AGREES.get(key):
        lite = LiteRuntime(model, key)
        lite.run(_probe(model))  # warm-up
        return lite
    reference = SavedModelRuntime(model)
    probe = _probe(model)
    expected = reference.run(probe)
    if wanted == "savedmodel":
        return reference
    try:
        lite = LiteRuntime(model, key)
        got = lite.run(probe)
    except Exception as exc:  # any converter or interpreter failure: fall back
        log.warning("%s/%s runs as a SavedModel: no TFLite (%s)", model.name, model.version, exc)
        return reference
    diff = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else np.inf
    _AGREES[key] = diff <= PARITY_ATOL
    if not _AGREES[key]:
        log.warning(
            "%s/%s runs as a SavedModel: TFLite differs by %.2g", model.name, model.version, diff
        )
        return reference
    return lite


def _int8(model: ModelVersion) -> LiteRuntime | None:
    """The version's int8 companion, warmed up, if it ships one that verifies: its checksums
    (``read_int8``) and its answers to the recorded probe (within ``PROBE_ATOL``)."""
    try:
        found = read_int8(model.path)
        if found is None:
            log.info("%s/%s has no int8 companion: runs as TFLite", model.name, model.version)
            return None
        meta, flatbuffer = found
        lite = LiteRuntime(model, flatbuffer=flatbuffer)
        got = lite.run(_probe(model, meta.probe_seed))
        recorded = np.asarray(meta.probe_output, dtype=np.float32)
        if got.shape != recorded.shape or float(np.max(np.abs(got - recorded))) > PROBE_ATOL:
            raise CompanionError("it does not answer the probe as int8.json records")
    except Exception as exc:  # a bad companion must not stop the model from being served
        log.warning("%s/%s: int8 companion not used (%s)", model.name, model.version, exc)
        return None
    if int8_dot_product() is False:
        log.warning(
            "%s/%s runs as int8 on a CPU without 8-bit dot-product instructions (VNNI, Arm"
            " dotprod), where int8 is no faster than float (service/backends/cpu.py);"
            " MMED_EMBEDDED_RUNTIME=tflite gives TF Serving's answers at the same cost",
            model.name,
            model.version,
        )
    return lite


def _probe(model: ModelVersion, seed: int = 0) -> np.ndarray:
    """The parity probe and warm-up batch: 4 random uint8 rows of the model's input shape."""
    return probe_batch(model.card.input.height, model.card.input.width, seed)
