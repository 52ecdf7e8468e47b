"""``assets.extra/int8.tflite``: an optional int8 companion of a version's SavedModel.

``python -m training quantize`` writes it: the serving signature converted to TFLite with
full-integer post-training quantization, calibrated on the version's own training crops (fixed
activation ranges: a face's answer never depends on the other rows of its batch). Beside it,
``assets.extra/int8.json`` (``Int8Companion``) records the SHA-256 of the flatbuffer and of the
SavedModel it was made from, the calibration, its agreement with the float model on the
version's held-out images, and its own answers to a fixed probe batch. TF Serving ignores both
files (the artifact stays the SavedModel); the embedded backend's ``int8`` runtime uses them.
No TensorFlow here: the serving side verifies a companion before it loads it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

INT8_PATH = Path("assets.extra") / "int8.tflite"
INT8_META_PATH = Path("assets.extra") / "int8.json"
PROBE_ATOL = 0.02  # a loaded companion must answer the probe as recorded (a few int8 steps)


class CompanionError(ValueError):
    """An int8 companion that is malformed or not made from this SavedModel."""


class Int8Agreement(BaseModel):
    """The int8 flatbuffer against the float model on one held-out dataset."""

    images: int = Field(ge=1)
    label_agreement: float = Field(ge=0, le=1)  # same arg-max label
    max_abs_diff: float = Field(ge=0)  # largest probability difference
    mean_abs_diff: float = Field(ge=0)
    accuracy_float: float = Field(ge=0, le=1)
    accuracy_int8: float = Field(ge=0, le=1)
    macro_f1_float: float = Field(ge=0, le=1)
    macro_f1_int8: float = Field(ge=0, le=1)


class Int8Calibration(BaseModel):
    images: int = Field(ge=1)
    seed: int
    source: str  # e.g. "training split (no held-out image)"


class Int8Cost(BaseModel):
    """CPU per face, batches of 32, both measured in one run of ``quantize``."""

    float_ms_per_face: float = Field(gt=0)
    int8_ms_per_face: float = Field(gt=0)
    threads: int = Field(ge=1)


class Int8Companion(BaseModel):
    format: Literal["tflite-int8"] = "tflite-int8"
    sha256: str  # of int8.tflite
    savedmodel_sha256: str  # of the SavedModel it was converted from (``savedmodel_digest``)
    tensorflow: str
    calibration: Int8Calibration
    agreement: dict[str, Int8Agreement]  # per held-out dataset
    cost: Int8Cost
    probe_seed: int  # the probe: rng(seed).integers(0, 256, (4, H, W, 1), uint8)
    probe_output: list[list[float]]  # the int8 flatbuffer's probabilities on it


def renormalised(probs: np.ndarray) -> np.ndarray:
    """The int8 flatbuffer's probabilities made to sum to 1 per row: its softmax output is
    quantized in steps of 1/256, so its rows sum to 1 only within a few steps. Both the
    measurement (``training quantize``) and the ``int8`` runtime apply it."""
    probs = np.asarray(probs, dtype=np.float32)
    total = probs.sum(axis=-1, keepdims=True)
    return np.divide(probs, total, out=np.full_like(probs, 1 / probs.shape[-1]), where=total > 0)


def probe_batch(height: int, width: int, seed: int = 0) -> np.ndarray:
    """The probe (and warm-up) batch: 4 seeded random uint8 rows ``[4, height, width, 1]``."""
    return np.random.default_rng(seed).integers(0, 256, (4, height, width, 1), dtype=np.uint8)


def savedmodel_digest(version_dir: Path) -> str:
    """SHA-256 of the SavedModel proper (saved_model.pb and variables/, names and bytes)."""
    root = Path(version_dir)
    files = [root / "saved_model.pb", *sorted((root / "variables").rglob("*"))]
    digest = hashlib.sha256()
    for f in files:
        if f.is_file():
            digest.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


def read_int8(version_dir: Path) -> tuple[Int8Companion, bytes] | None:
    """The version's int8 companion and flatbuffer; None if it ships none. Raises
    ``CompanionError`` when either file is missing, malformed, or made from other content."""
    root = Path(version_dir)
    meta_path, flat_path = root / INT8_META_PATH, root / INT8_PATH
    if not meta_path.exists() and not flat_path.exists():
        return None
    try:
        meta = Int8Companion.model_validate_json(meta_path.read_bytes())
        flatbuffer = flat_path.read_bytes()
    except (OSError, ValidationError) as exc:
        raise CompanionError(f"{root}: unreadable int8 companion ({exc})") from exc
    if hashlib.sha256(flatbuffer).hexdigest() != meta.sha256:
        raise CompanionError(f"{root / INT8_PATH}: its SHA-256 is not the one int8.json records")
    if savedmodel_digest(root) != meta.savedmodel_sha256:
        raise CompanionError(f"{root}: the int8 companion was made from another SavedModel")
    return meta, flatbuffer
