"""Face detection (OpenCV Haar cascade) and the face crop the models are trained on.

``FaceDetector.detect`` returns the largest confident frontal face of a grey frame;
``crop_face`` turns a frame and a box into the model's input crop (margin, face region, size).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np

from model_artifact.regions import crop_region

HAAR_CASCADE = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]

# OpenCV's own grouping tolerance (GROUP_EPS in cascadedetect.cpp, used by detectMultiScale).
_GROUP_EPS = 0.2

# Margin around the Haar box, as a fraction of the box size on each side. The shipped models are
# trained on CK+48 crops, and those crops ARE Haar frontal-face boxes: running this cascade on
# every 3rd CK+ crop (upscaled 4x, placed on a plain, a reflected or a noise canvas) finds a
# box covering the crop to within 2 % on every side (median margins left/right/top/bottom
# +0.005/-0.010/0.000/-0.015 of the box size, box/crop size 1.016, 162 of 162 found). So a bare
# Haar box, with no margin, frames a face like the training crops (eyebrows/forehead to chin).
DEFAULT_MARGIN = 0.0

# Confidence of a grouped Haar detection: a logistic model of ln(neighbours) (raw windows merged
# into the group) and the largest last-stage weight of those windows (detectMultiScale3's
# levelWeights). tests/media/calibrate_face_score.py fits it (class-balanced logistic
# regression) on real faces (CK+ crops and scikit-image's astronaut, pasted at random sizes and
# places into 240p-720p frames over plain and textured backgrounds) against the other
# detections in those frames, once per kind of search, since the neighbour counts depend on it:
# - FULL_SEARCH: the whole frame at full resolution, scale steps 1.1 (images; the detector's
#   own search). 324 faces / 445 others: at score >= 0.5 it keeps 94.8 % of the faces and
#   3.1 % of the rest; faces under 40 px score low (little evidence).
# - WINDOW_SEARCH: FaceTracker's search in a small window around a previous box, the face at
#   48 px (every box of a video except a fallback's). Fitted on searches around every
#   full-search detection of those frames, shifted and resized a little as between frames:
#   328 faces / 152 others; at score >= 0.5 it keeps 93.6 % of the faces and 4.6 % of the rest.
# Other settings change the neighbour counts: treat the score as a ranking there.
# detect() prefers the largest face scoring at least this: without it a large 7-neighbour false
# positive beside the astronaut's face (score 0.05) wins over the real face (51 neighbours,
# score 0.98) in a 640x480 frame.
DEFAULT_MIN_SCORE = 0.5

# Haar runs on frames downscaled to this width, boxes mapped back (None = full resolution).
# Default: full resolution, the only setting that gives exactly the same boxes as OpenCV on the
# full frame. detect_width=640 finds the same faces (astronaut in 640x480/720p/1080p frames, 99
# CK+ faces in 720p frames) with boxes up to 6 % off, about 1.5x faster on 720p frames; the
# detection benchmark decides whether to change the default.
DEFAULT_DETECT_WIDTH: int | None = None

# FaceTracker defaults (video): a full search at least every 10 s of media (a new, larger face
# is picked up within that; a lost face at once). Keyframes: a coarse search (scale steps of
# 1.2, 3 neighbours) on the frame downscaled so the smallest face searched for is 36 px (Haar's
# window is 24), each of its best candidates confirmed by a tracked search, the detector's own
# full-resolution search when nothing is confirmed. On 161 random scenes (CK+ faces and the
# astronaut pasted into 240p-1080p frames over scikit-image backgrounds, 1 thread) this found
# the face in the same 160 scenes as full-resolution Haar in 48 ms per keyframe (6 fallbacks)
# where a search at 1.1 steps and 5 neighbours took 76 ms (67 fallbacks) and full resolution
# 100 ms. Tracked faces are searched at 48 px, sizes within 15 % (a multi-scale search costs
# more per scale than the pixels suggest). tests/perf/test_tracking.py checks recall and boxes
# against full-resolution Haar on every frame; `make bench` measures speed.
DEFAULT_REFRESH_S = 10.0
DEFAULT_KEYFRAME_FACE_PX: int | None = 36
DEFAULT_KEYFRAME_SCALE_FACTOR = 1.2
DEFAULT_KEYFRAME_MIN_NEIGHBORS = 3
DEFAULT_TRACK_FACE_PX = 48


@dataclass(frozen=True)
class FaceBox:
    """A face in frame pixel coordinates; ``score`` is a confidence in [0, 1]."""

    x: int
    y: int
    w: int
    h: int
    score: float


@dataclass(frozen=True)
class ScoreModel:
    """Logistic confidence of a grouped detection from its neighbours and level weight."""

    log_neighbours: float
    level_weight: float
    bias: float

    def __call__(self, neighbours: int, level_weight: float) -> float:
        z = (
            self.log_neighbours * math.log(max(neighbours, 1))
            + self.level_weight * level_weight
            + self.bias
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


FULL_SEARCH = ScoreModel(log_neighbours=2.499, level_weight=0.630, bias=-8.735)
WINDOW_SEARCH = ScoreModel(log_neighbours=2.745, level_weight=0.415, bias=-7.019)


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
        grey = _as_grey(grey)
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


class FaceTracker:
    """Per-stream detection: a full search now and then, a small search around the last face
    in between. One tracker per video (not thread-safe; frames in presentation order).

    - Full search (the first frame, every ``refresh_s`` seconds of media, and whenever the
      face is lost): a coarse whole-frame search (``keyframe_scale_factor``, at least
      ``keyframe_min_neighbors``) on the frame downscaled so that the smallest face it looks
      for (``min_size_frac`` of the frame) is ``keyframe_face_px`` pixels (never upscaled);
      then the ``max_candidates`` best of what it found are each confirmed by the tracked
      search below (``refine_window``, ``refine_tolerance``), and the detector's choice among
      the confirmed boxes is the face. Haar's cost grows with the pixels and the scales
      searched. If nothing is confirmed, the detector's own search (``FaceDetector.detect``)
      runs on the frame, so a frame where the detector alone finds a face always gets one
      (frames without any face pay for both searches).
    - Tracked frames: a square wider than the previous box by ``min_window`` box sizes on
      every side, plus the seconds since the previous frame, at most ``window``,
      downscaled so the face is ``face_px`` pixels (a constant-size image), searched only for
      faces up to ``size_tolerance`` times smaller or larger than it. If nothing is found
      there, the same frame gets a full search, so a face the full search would find is never
      lost to tracking.

    Boxes found by the window search are scored by ``WINDOW_SEARCH``, calibrated for it as
    ``FULL_SEARCH`` is for the detector's own search (which scores a fallback's box).
    """

    def __init__(
        self,
        detector: FaceDetector,
        *,
        refresh_s: float = DEFAULT_REFRESH_S,
        keyframe_face_px: int | None = DEFAULT_KEYFRAME_FACE_PX,
        keyframe_scale_factor: float = DEFAULT_KEYFRAME_SCALE_FACTOR,
        keyframe_min_neighbors: int = DEFAULT_KEYFRAME_MIN_NEIGHBORS,
        max_candidates: int = 4,
        refine_window: float = 0.35,
        refine_tolerance: float = 1.3,
        face_px: int = DEFAULT_TRACK_FACE_PX,
        window: float = 0.5,
        min_window: float = 0.2,
        size_tolerance: float = 1.15,
    ) -> None:
        if refresh_s < 0:
            raise ValueError("refresh_s must be >= 0")
        if keyframe_face_px is not None and keyframe_face_px < 24:
            raise ValueError("keyframe_face_px must be None or >= 24 (the Haar window)")
        if keyframe_scale_factor <= 1.0 or keyframe_min_neighbors < 0 or max_candidates < 1:
            raise ValueError(
                "keyframe_scale_factor must be > 1, keyframe_min_neighbors >= 0, "
                "max_candidates >= 1"
            )
        if face_px < 24 or not 0 <= min_window <= window or size_tolerance <= 1.0:
            raise ValueError(
                "face_px must be >= 24, 0 <= min_window <= window and size_tolerance > 1"
            )
        if refine_window < 0 or refine_tolerance <= 1.0:
            raise ValueError("refine_window must be >= 0 and refine_tolerance > 1")
        self.detector = detector
        self.refresh_s = refresh_s
        self.keyframe_face_px = keyframe_face_px
        self.keyframe_scale_factor = keyframe_scale_factor
        self.keyframe_min_neighbors = keyframe_min_neighbors
        self.max_candidates = max_candidates
        self.refine_window = refine_window
        self.refine_tolerance = refine_tolerance
        self.face_px = face_px
        self.window = window
        self.min_window = min_window
        self.size_tolerance = size_tolerance
        self._last: FaceBox | None = None
        self._last_full: float | None = None
        self._last_t: float | None = None
        self.full_searches = 0
        self.tracked = 0
        self.fallbacks = 0  # full searches the coarse pass could not answer

    def detect(self, grey: np.ndarray, timestamp_s: float | None = None) -> FaceBox | None:
        """The face in this frame (``timestamp_s``: media time, for the refresh schedule)."""
        grey = _as_grey(grey)
        due = (
            self._last_full is None
            or timestamp_s is None
            or timestamp_s - self._last_full >= self.refresh_s
        )
        box = None
        if self._last is not None and not due:
            # Faces move: the window grows with the time since the previous frame.
            gap = None if self._last_t is None else (timestamp_s or 0.0) - self._last_t
            window = self.window if gap is None else min(self.window, self.min_window + gap)
            box = self._around(grey, self._last, window, self.size_tolerance)
            if box is not None:
                self.tracked += 1
        if box is None:
            box = self._full(grey)
            self.full_searches += 1
            self._last_full = timestamp_s
        self._last = box
        self._last_t = timestamp_s
        return box

    def _full(self, grey: np.ndarray) -> FaceBox | None:
        d = self.detector
        height, width = grey.shape
        smallest = d.min_size_frac * min(height, width)
        scale = 1.0
        if d.detect_width is not None and width > d.detect_width:
            scale = d.detect_width / width
        if self.keyframe_face_px is not None and smallest * scale > self.keyframe_face_px:
            scale = self.keyframe_face_px / smallest
        coarse = d.search(
            grey,
            scale,
            min_side=max(1, round(smallest * scale)),
            scale_factor=self.keyframe_scale_factor,
            min_neighbors=self.keyframe_min_neighbors,
        )
        best = sorted(coarse, key=lambda c: c.face_box().score, reverse=True)
        confirmed = [
            box
            for c in best[: self.max_candidates]
            if (box := self._around(grey, c.face_box(), self.refine_window, self.refine_tolerance))
        ]
        found = d.pick(confirmed)
        if found is None:
            # Nothing confirmed: the detector's own search decides, so the tracker never
            # finds a face in fewer frames than the detector alone would.
            self.fallbacks += 1
            found = d.detect(grey)
        return found

    def _around(
        self, grey: np.ndarray, last: FaceBox, window: float, tolerance: float
    ) -> FaceBox | None:
        found = self.window_candidates(grey, last, window, tolerance)
        return self.detector.pick([c.face_box(WINDOW_SEARCH) for c in found])

    def window_candidates(
        self, grey: np.ndarray, last: FaceBox, window: float, tolerance: float
    ) -> list[Candidate]:
        """Detections in a square ``window`` box sizes wider than ``last`` on every side,
        searched with the face at ``face_px`` for sizes within ``tolerance`` of it."""
        d = self.detector
        height, width = grey.shape
        side = max(last.w, last.h)
        scale = min(1.0, self.face_px / side)
        half = side * (0.5 + window)
        x0 = round(last.x + last.w / 2 - half)
        y0 = round(last.y + last.h / 2 - half)
        span = round(2 * half)
        lo = max(24, math.floor(side * scale / tolerance))
        hi = math.ceil(side * scale * tolerance)
        # The full search never looks below min_size_frac of the frame: neither does this one.
        lo = max(lo, math.ceil(d.min_size_frac * min(height, width) * scale))
        if lo > hi:
            return []
        return d.search(
            grey,
            scale,
            window=(x0, y0, x0 + span, y0 + span),
            min_side=lo,
            max_side=hi,
            canvas=max(24, round(span * scale)),
        )


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


def _as_grey(grey: np.ndarray) -> np.ndarray:
    if not isinstance(grey, np.ndarray) or grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError("expected a 2-D uint8 grey image")
    return np.ascontiguousarray(grey)


def crop_face(
    grey: np.ndarray,
    box: FaceBox | None,
    region: str,
    size: tuple[int, int],
    margin: float = DEFAULT_MARGIN,
) -> np.ndarray:
    """The model input crop: ``box`` grown by ``margin``, its ``region``, resized to ``size``.

    ``box`` None means the whole frame is the face (no margin). ``margin`` is a fraction of the
    box's width/height added on each side; parts of the grown box outside the frame are filled
    by edge replication, so the crop keeps the box's aspect and centre. ``size`` is
    ``(height, width)``; the result is uint8 HxW.
    """
    grey = _as_grey(grey)
    height, width = size
    if height < 1 or width < 1:
        raise ValueError("size must be positive (height, width)")
    if margin <= -0.5:
        raise ValueError("margin must be > -0.5")
    if box is None:
        crop = grey
    else:
        frame_h, frame_w = grey.shape
        x0 = round(box.x - margin * box.w)
        y0 = round(box.y - margin * box.h)
        x1 = max(x0 + 1, round(box.x + box.w + margin * box.w))
        y1 = max(y0 + 1, round(box.y + box.h + margin * box.h))
        inner = grey[max(y0, 0) : max(min(y1, frame_h), 0), max(x0, 0) : max(min(x1, frame_w), 0)]
        if inner.size == 0:
            raise ValueError(f"face box {box} lies outside the {frame_w}x{frame_h} frame")
        pads = (max(-y0, 0), max(y1 - frame_h, 0), max(-x0, 0), max(x1 - frame_w, 0))
        crop = cv2.copyMakeBorder(inner, *pads, cv2.BORDER_REPLICATE) if any(pads) else inner
    crop = crop_region(crop, region)
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
