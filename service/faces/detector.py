"""Haar frontal-face detection: every grouped detection with its evidence, and the choice.

``FaceDetector.detect`` returns the largest confident frontal face of a grey frame;
``FaceDetector.search`` is the windowed, resized search the tracker builds on.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from service.faces.box import FaceBox, as_grey
from service.faces.calibration import DEFAULT_MIN_SCORE, FULL_SEARCH, ScoreModel

HAAR_CASCADE = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]

# OpenCV's own grouping tolerance (GROUP_EPS in cascadedetect.cpp, used by detectMultiScale).
_GROUP_EPS = 0.2

# Haar runs on frames downscaled to this width, boxes mapped back (None = full resolution, the
# only setting that gives exactly OpenCV's boxes on the full frame).
DEFAULT_DETECT_WIDTH: int | None = None


class FaceDetector:
    """Largest-frontal-face detector, safe to share between worker threads.

    ``cv2.CascadeClassifier`` keeps per-call scratch state and is not thread-safe. Each thread
    gets its own classifier (``threading.local``) instead of one behind a lock: OpenCV releases
    the GIL during ``detectMultiScale``, which is the dominant per-frame cost, so per-thread
    classifiers let worker threads detect in parallel where a lock would serialise them. A
    classifier costs about 1 MB and is loaded once per thread.
    """

    def __init__(
        self,
        *,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size_frac: float = 0.1,
        detect_width: int | None = DEFAULT_DETECT_WIDTH,
        min_score: float = DEFAULT_MIN_SCORE,
        cascade_path: str = HAAR_CASCADE,
    ) -> None:
        if scale_factor <= 1.0:
            raise ValueError("scale_factor must be > 1")
        if min_neighbors < 0:
            raise ValueError("min_neighbors must be >= 0")
        if not 0.0 <= min_size_frac < 1.0:
            raise ValueError("min_size_frac must be in [0, 1)")
        if detect_width is not None and detect_width < 24:
            raise ValueError("detect_width must be None or >= 24 (the Haar window)")
        if not 0.0 <= min_score <= 1.0:
            raise ValueError("min_score must be in [0, 1]")
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size_frac = min_size_frac
        self.detect_width = detect_width
        self.min_score = min_score
        self.cascade_path = cascade_path
        self._local = threading.local()
        self._cascade()  # fail fast on a missing or invalid cascade file

    def _cascade(self) -> cv2.CascadeClassifier:
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            cascade = cv2.CascadeClassifier(self.cascade_path)
            if cascade.empty():
                raise RuntimeError(f"cannot load Haar cascade {self.cascade_path!r}")
            self._local.cascade = cascade
        return cascade

    def candidates(self, grey: np.ndarray) -> list[Candidate]:
        """Every grouped detection (OpenCV's grouping, ``min_neighbors``) with its evidence."""
        grey = as_grey(grey)
        width = grey.shape[1]
        scale = 1.0
        if self.detect_width is not None and width > self.detect_width:
            scale = self.detect_width / width
        return self.search(grey, scale)

    def search(
        self,
        grey: np.ndarray,
        scale: float,
        *,
        window: tuple[int, int, int, int] | None = None,
        min_side: int | None = None,
        max_side: int | None = None,
        canvas: int | None = None,
        scale_factor: float | None = None,
        min_neighbors: int | None = None,
    ) -> list[Candidate]:
        """Grouped detections in ``window`` (x0, y0, x1, y1; default the whole frame) of ``grey``
        resized by ``scale``, in frame pixels.

        ``min_side``/``max_side`` bound the face size in the resized image (default: from
        ``min_size_frac`` of the resized frame, no maximum). ``canvas``: the resized window is
        fitted to exactly ``canvas`` x ``canvas`` pixels, the parts outside the frame filled by
        edge replication; OpenCV reallocates its buffers whenever the input size changes, which
        costs about as much as a small search. ``scale_factor``/``min_neighbors`` override the
        detector's for this search. ``candidates`` is the whole-frame search; ``FaceTracker``
        searches a small window around the previous face.
        """
        height, width = grey.shape
        x0, y0, x1, y1 = window if window is not None else (0, 0, width, height)
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if cx1 <= cx0 or cy1 <= cy0:
            return []
        region = grey[cy0:cy1, cx0:cx1]
        image = region
        sx = sy = scale
        left = top = 0
        rh, rw = region.shape
        if canvas is not None:
            left = min(canvas - 1, max(0, round((cx0 - x0) * scale)))
            top = min(canvas - 1, max(0, round((cy0 - y0) * scale)))
            size = (min(canvas - left, max(1, round(rw * scale))),
                    min(canvas - top, max(1, round(rh * scale))))  # fmt: skip
            if size != (rw, rh):
                image = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
            sx, sy = size[0] / rw, size[1] / rh
            right, bottom = canvas - left - size[0], canvas - top - size[1]
            if left or top or right or bottom:
                image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_REPLICATE)
        elif scale != 1.0:
            size = (max(1, round(rw * scale)), max(1, round(rh * scale)))
            image = cv2.resize(region, size, interpolation=cv2.INTER_AREA)
        if min_side is None:
            min_side = max(1, round(self.min_size_frac * min(image.shape)))
        if min(image.shape) < max(min_side, 24):
            return []
        # minNeighbors=0 returns the raw windows with their last-stage weights; grouping them
        # with cv2.groupRectangles is exactly what detectMultiScale2 does, and keeps the
        # neighbour counts that detectMultiScale3 drops.
        raw_rects, _levels, raw_weights = self._cascade().detectMultiScale3(
            image,
            scaleFactor=self.scale_factor if scale_factor is None else scale_factor,
            minNeighbors=0,
            minSize=(min_side, min_side),
            maxSize=(max_side, max_side) if max_side else (0, 0),
            outputRejectLevels=True,
        )
        if len(raw_rects) == 0:
            return []
        raw = np.asarray(raw_rects, dtype=np.int64).reshape(-1, 4)
        weights = np.asarray(raw_weights, dtype=np.float64).ravel()
        neighbours = self.min_neighbors if min_neighbors is None else min_neighbors
        rects, counts = cv2.groupRectangles(raw.tolist(), neighbours, _GROUP_EPS)
        found = []
        for rect, count in zip(
            np.asarray(rects).reshape(-1, 4), np.asarray(counts).ravel(), strict=True
        ):
            weight = _group_weight(raw, weights, rect)
            x = round((float(rect[0]) - left) / sx) + cx0
            y = round((float(rect[1]) - top) / sy) + cy0
            w, h = round(float(rect[2]) / sx), round(float(rect[3]) / sy)
            x, y = min(max(x, 0), width - 1), min(max(y, 0), height - 1)
            w, h = max(1, min(w, width - x)), max(1, min(h, height - y))
            found.append(Candidate(x, y, w, h, int(count), weight))
        return found

    def detect_all(self, grey: np.ndarray) -> list[FaceBox]:
        """Every grouped detection, scored, in frame pixels."""
        return [c.face_box() for c in self.candidates(grey)]

    def detect(self, grey: np.ndarray) -> FaceBox | None:
        """The largest face scoring at least ``min_score``; if none does, the best-scoring one.

        Preferring confident faces keeps a large, weak false positive from beating the real
        face; falling back to the best one keeps small, low-evidence faces (near the minimum
        size) that are the only detection in the frame. None when Haar finds nothing.
        """
        return self.pick(self.detect_all(grey))

    def pick(self, faces: list[FaceBox]) -> FaceBox | None:
        """``detect``'s choice among ``faces``: the largest confident one, else the best."""
        confident = [f for f in faces if f.score >= self.min_score]
        if confident:
            return max(confident, key=lambda f: (f.w * f.h, f.score))
        return max(faces, key=lambda f: f.score, default=None)


@dataclass(frozen=True)
class Candidate:
    """A grouped Haar detection in frame pixels, with the evidence its score is made of."""

    x: int
    y: int
    w: int
    h: int
    neighbours: int
    level_weight: float

    def face_box(self, model: ScoreModel = FULL_SEARCH) -> FaceBox:
        """The box, scored by ``model`` (the one calibrated for the search that found it)."""
        return FaceBox(self.x, self.y, self.w, self.h, model(self.neighbours, self.level_weight))


def _group_weight(raw: np.ndarray, weights: np.ndarray, rect: np.ndarray) -> float:
    """Largest level weight among the raw windows OpenCV's similarity rule puts with ``rect``."""
    delta = _GROUP_EPS * 0.5 * (np.minimum(raw[:, 2], rect[2]) + np.minimum(raw[:, 3], rect[3]))
    near = (
        (np.abs(raw[:, 0] - rect[0]) <= delta)
        & (np.abs(raw[:, 1] - rect[1]) <= delta)
        & (np.abs(raw[:, 0] + raw[:, 2] - rect[0] - rect[2]) <= delta)
        & (np.abs(raw[:, 1] + raw[:, 3] - rect[1] - rect[3]) <= delta)
    )
    return float(weights[near].max()) if near.any() else float(weights.min())
