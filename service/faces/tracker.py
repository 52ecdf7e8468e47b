"""Per-video face tracking: BlazeFace finds and confirms the face, optical flow follows it.

One ``FaceTracker`` per video (not thread-safe; frames in presentation order). Per frame:

- **Followed** (a face in the previous frame, at most ``flow_gap_s`` before): Lucas-Kanade
  optical flow of corner points inside the previous box, in a window around it downscaled so
  the face is ``flow_face_px`` pixels, moves and scales the box (the median shift and the
  median ratio of point distances). Flow survives talking, blinking, tilting and looking down,
  which the Haar window search did not; it costs a fraction of a millisecond.
- **Confirmed** (every ``confirm_s`` of media, when the flow loses its points, and on every
  frame of a sparse sampling): BlazeFace on a square ``roi`` box sizes wide around the face.
  The face at about 128 / ``roi`` of the model's input is BlazeFace's best case; a miss there
  is a lost face and gets a full search at once.
- **Full search** (the first frame, a lost face, every ``refresh_s`` of media for a new,
  much larger face): BlazeFace on the whole frame letterboxed; if it finds nothing, the Haar
  keyframe search (``HaarTracker.full_search``: frontal faces too small for BlazeFace's view
  of the whole frame) at once for a face just lost, else at most every ``haar_every_s``.
- **One person**: with several faces in view, every search keeps the face overlapping the
  tracked one unless another is ``SWITCH_WIDTH`` times as wide (``pick``); the largest is
  taken only when nothing is tracked or the tracked face is gone.
- **No face**: while no face is seen, BlazeFace searches at most every ``search_every_s`` of
  media (frames in between get no face without a search), so a faceless stretch costs a
  bounded rate of searches; a face that appears is found within ``search_every_s`` (frontal
  faces BlazeFace cannot see whole-frame: within ``haar_every_s``), and at once after a cut
  (a frame whose every 8th pixel differs from the previous frame's by more than ``CUT_DIFF``
  grey levels on average: on the recorded clips a cut scores 77-147, ordinary motion under 6).

Boxes are in Haar's framing (``blazeface_box``: the shipped models are trained on Haar-box
crops); scores are calibrated probabilities (``BLAZEFACE`` for BlazeFace's boxes, Haar's own
models for a Haar fallback; a followed frame keeps its last confirmation's score).
"""

from __future__ import annotations

import math
import threading

import cv2
import numpy as np

from service.faces.blazeface import BlazeFace, Detection
from service.faces.box import FaceBox, as_grey, iou
from service.faces.calibration import BLAZEFACE
from service.faces.detector import FaceDetector
from service.faces.haar_tracker import HaarTracker

# Haar's box around BlazeFace's: the same centre column, 1.16x the size, 0.15 of BlazeFace's
# height higher (medians over the real clips' frames where both find the face; see
# docs/benchmarks.md). Haar boxes are the training crops' framing (CK+48).
HAAR_SIZE = 1.16
HAAR_SHIFT_UP = 0.15
# Mean absolute difference (every 8th pixel) from the previous frame that makes a faceless
# frame a cut, searched at once rather than at the bounded rate.
CUT_DIFF = 20.0
# With several faces in view the tracked person stays tracked: a whole-frame search (a refresh,
# a lost face) or the search around the face keeps the box that overlaps the tracked one (IoU
# > SAME_FACE_IOU) unless another face is SWITCH_WIDTH times as wide (someone who comes much
# closer). Two people of a video call's tiles differ by a few percent, and their boxes jitter
# by about ±5 % from frame to frame: taking the largest each time switched between them.
SAME_FACE_IOU = 0.3
SWITCH_WIDTH = 1.25

_GRID = np.stack(np.meshgrid(np.linspace(0.1, 0.9, 5), np.linspace(0.1, 0.9, 5)), -1).reshape(-1, 2)

_SHARED: list[BlazeFace] = []
_SHARED_LOCK = threading.Lock()


def shared_blazeface() -> BlazeFace:
    """One process-wide BlazeFace (its interpreters are per thread)."""
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(BlazeFace(min_score=0.5))
        return _SHARED[0]


def blazeface_box(d: Detection, width: int, height: int) -> FaceBox:
    """BlazeFace's detection as a Haar-framed, calibrated box, clipped to the frame."""
    side = HAAR_SIZE * max(d.w, d.h)
    cx, cy = d.x + d.w / 2, d.y + d.h / 2 - HAAR_SHIFT_UP * d.h
    return _clipped(cx - side / 2, cy - side / 2, side, side, BLAZEFACE(d.score), width, height)


def _clipped(
    x: float, y: float, w: float, h: float, score: float, width: int, height: int
) -> FaceBox:
    x0, y0 = min(max(round(x), 0), width - 1), min(max(round(y), 0), height - 1)
    x1, y1 = max(x0 + 1, min(round(x + w), width)), max(y0 + 1, min(round(y + h), height))
    return FaceBox(x0, y0, x1 - x0, y1 - y0, score)


def pick(boxes: list[FaceBox], tracked: FaceBox | None) -> FaceBox | None:
    """The face to follow among ``boxes``: the one overlapping ``tracked`` most (IoU >
    ``SAME_FACE_IOU``) unless another is ``SWITCH_WIDTH`` times as wide; the largest when none
    overlaps it, or nothing is tracked."""
    largest = max(boxes, key=lambda b: (b.w * b.h, b.score), default=None)
    if tracked is None or largest is None:
        return largest
    own = max(boxes, key=lambda b: iou(b, tracked))
    if iou(own, tracked) <= SAME_FACE_IOU or largest.w >= SWITCH_WIDTH * own.w:
        return largest
    return own


class FaceTracker:
    """The face in each frame of one video (see the module docstring)."""

    def __init__(
        self,
        detector: FaceDetector,
        *,
        blazeface: BlazeFace | None = None,
        confirm_s: float = 0.5,
        flow_gap_s: float = 0.1,
        flow_face_px: int = 48,
        roi: float = 2.0,
        refresh_s: float = 2.0,
        search_every_s: float = 0.2,
        haar_every_s: float = 5.0,
    ) -> None:
        if min(confirm_s, flow_gap_s, refresh_s, search_every_s, haar_every_s) < 0:
            raise ValueError("the tracker's intervals must be >= 0")
        if flow_face_px < 16 or roi < 1.2:
            raise ValueError("flow_face_px must be >= 16 and roi >= 1.2")
        self.detector = detector
        self.blazeface = blazeface or shared_blazeface()
        self.haar = HaarTracker(detector)
        self.confirm_s = confirm_s
        self.flow_gap_s = flow_gap_s
        self.flow_face_px = flow_face_px
        self.roi = roi
        self.refresh_s = refresh_s
        self.search_every_s = search_every_s
        self.haar_every_s = haar_every_s
        self._last: FaceBox | None = None
        self._prev: np.ndarray | None = None
        self._t: float | None = None
        self._confirmed_t = -math.inf
        self._full_t = -math.inf
        self._search_t = -math.inf
        self._haar_t = -math.inf
        # Counters (benchmarks, tests): frames followed by flow, confirmed by BlazeFace around
        # the face, whole-frame searches (BlazeFace), Haar fallbacks, frames skipped unsearched.
        self.followed = 0
        self.confirmed = 0
        self.full_searches = 0
        self.haar_searches = 0
        self.skipped = 0
        # Restart points: frames after which the state depends on that frame alone, so a new
        # tracker started on it gives the same boxes from there on (a resumed job restarts
        # at one). A full search that found a face, or that ran Haar, is one.
        self.restarts = 0

    def detect(self, grey: np.ndarray, timestamp_s: float | None = None) -> FaceBox | None:
        """The face in this frame (``timestamp_s``: media time; None = search every frame)."""
        grey = as_grey(grey)
        t = timestamp_s
        box = None
        if self._last is not None and t is not None:
            if t - self._full_t >= self.refresh_s:
                box = self._refresh(grey, t, self._last)
            if box is None:
                box = self._track(grey, t)
        elif (
            self._last is None
            and t is not None
            and t - self._search_t < self.search_every_s
            and not self._cut(grey)
        ):
            self.skipped += 1
        else:
            box = self._full(grey, t)
        self._last, self._prev, self._t = box, grey, t
        return box

    def _cut(self, grey: np.ndarray) -> bool:
        """This frame differs from the previous one as after a cut (see ``CUT_DIFF``)."""
        prev = self._prev
        if prev is None or prev.shape != grey.shape:
            return True
        a, b = prev[::8, ::8], grey[::8, ::8]
        return float(cv2.absdiff(a, b).mean()) > CUT_DIFF

    def _track(self, grey: np.ndarray, t: float) -> FaceBox | None:
        last = self._last
        assert last is not None
        near = self._t is not None and 0 <= t - self._t <= self.flow_gap_s
        if near and t - self._confirmed_t < self.confirm_s:
            moved = self._flow(self._prev, grey, last)
            if moved is not None:
                self.followed += 1
                return moved
        found = self._around(grey, last)
        if found is not None:
            self.confirmed += 1
            self._confirmed_t = t
            return found
        return self._full(grey, t, lost=True)  # lost: search the whole frame now

    def _refresh(self, grey: np.ndarray, t: float, last: FaceBox) -> FaceBox | None:
        """A whole-frame search while a face is tracked: the tracked face found again (the
        box snaps to it) or a face ``SWITCH_WIDTH`` times as wide elsewhere replaces it; a
        restart point when that is the box a new tracker's first full search takes (the
        largest). None: keep tracking the current face (nothing found, or only faces
        elsewhere less than ``SWITCH_WIDTH`` times as wide)."""
        self.full_searches += 1
        self._full_t = t
        height, width = grey.shape
        boxes = self._boxes(self.blazeface.detect_frame(grey), width, height)
        found = pick(boxes, last)
        haar = found is None and t - self._haar_t >= self.haar_every_s
        if haar:  # a face too small for the whole-frame view: Haar, at a bounded rate
            self.haar_searches += 1
            self._haar_t = t
            found = self.haar.full_search(grey)
        if found is None or (iou(found, last) <= SAME_FACE_IOU and found.w < SWITCH_WIDTH * last.w):
            return None
        self._confirmed_t = self._search_t = t
        if not haar:
            self._haar_t = -math.inf
        if haar or found == pick(boxes, None):  # what a new tracker's search would take
            self.restarts += 1
        return found

    def _full(self, grey: np.ndarray, t: float | None, lost: bool = False) -> FaceBox | None:
        """BlazeFace on the whole frame, else Haar's keyframe search (every ``haar_every_s``
        while no face is seen; at once for a face just ``lost``)."""
        self.full_searches += 1
        stamp = -math.inf if t is None else t
        self._full_t = self._search_t = stamp
        height, width = grey.shape
        boxes = self._boxes(self.blazeface.detect_frame(grey), width, height)
        found = pick(boxes, self._last if lost else None)
        haar = found is None and (lost or t is None or t - self._haar_t >= self.haar_every_s)
        if haar:
            self.haar_searches += 1
            self._haar_t = stamp
            found = self.haar.full_search(grey)
        elif found is not None:
            # A new tracker has never run Haar: forget when this one did (a face found now
            # makes the next faceless search run Haar at once either way, as a lost face).
            self._haar_t = -math.inf
        if found is not None:
            self._confirmed_t = stamp
        if haar or (found is not None and found == pick(boxes, None)):
            self.restarts += 1
        return found

    def _around(self, grey: np.ndarray, last: FaceBox) -> FaceBox | None:
        side = self.roi * max(last.w, last.h)
        cx, cy = last.x + last.w / 2, last.y + last.h / 2
        found = self.blazeface.detect_square(
            grey, round(cx - side / 2), round(cy - side / 2), round(side)
        )
        height, width = grey.shape
        return pick(self._boxes(found, width, height), last)

    @staticmethod
    def _boxes(found: list[Detection], width: int, height: int) -> list[FaceBox]:
        return [blazeface_box(d, width, height) for d in found]

    def _flow(self, prev: np.ndarray | None, grey: np.ndarray, last: FaceBox) -> FaceBox | None:
        """``last`` moved by the optical flow of its corners from ``prev`` to ``grey``."""
        if prev is None or prev.shape != grey.shape:
            return None
        height, width = grey.shape
        side = max(last.w, last.h)
        # Every step-th pixel (no filtering: a resize of the region cost 5x the flow itself).
        step = max(1, side // self.flow_face_px)
        scale = 1.0 / step
        pad = round(side * 0.25)
        x0, y0 = max(last.x - pad, 0), max(last.y - pad, 0)
        x1, y1 = min(last.x + last.w + pad, width), min(last.y + last.h + pad, height)
        if (x1 - x0) // step < 8 or (y1 - y0) // step < 8:
            return None
        a = np.ascontiguousarray(prev[y0:y1:step, x0:x1:step])
        b = np.ascontiguousarray(grey[y0:y1:step, x0:x1:step])
        # A 5x5 grid over the inner 80 % of the box: LK finds its own texture in each 9x9
        # window; points that fail are dropped, and the median shift ignores the few outliers.
        sw, sh = last.w * scale, last.h * scale
        origin = ((last.x - x0) * scale, (last.y - y0) * scale)
        pts = (_GRID * (sw, sh) + origin).astype(np.float32).reshape(-1, 1, 2)
        nxt, status, _err = cv2.calcOpticalFlowPyrLK(
            a,
            b,
            pts,
            None,  # type: ignore[call-overload]  # the stubs want an array; OpenCV takes None
            winSize=(9, 9),
            maxLevel=1,
        )
        ok = status.ravel().astype(bool)
        if ok.sum() < 0.6 * len(pts):
            return None
        pq = np.concatenate([pts, nxt], axis=2)[ok, 0]  # [points, (x, y, x', y')]
        shift = column_median(pq[:, 2:] - pq[:, :2]) / scale
        before, after = spreads(pq)
        grow = math.sqrt(after / max(before, 1e-6))
        if not 0.8 <= grow <= 1.25:
            return None
        cx = last.x + last.w / 2 + float(shift[0])
        cy = last.y + last.h / 2 + float(shift[1])
        w, h = last.w * grow, last.h * grow
        return _clipped(cx - w / 2, cy - h / 2, w, h, last.score, width, height)


# np.median over axis 0 of the flow's few points costs ~26 us a call in its Python wrapper
# (holding the GIL the decoder thread needs); a sort gives the same values in ~4 us (only the
# sign of a zero median may differ, which adding it to the box centre erases).


def column_median(a: np.ndarray) -> np.ndarray:
    """``np.median(a, axis=0)`` of a 2-D float array: the middle row of the sorted columns, or
    the mean of the middle two (NaN anywhere: numpy's own)."""
    n = len(a)
    if n == 0 or np.isnan(a).any():
        return np.asarray(np.median(a, axis=0))
    s = np.sort(a, axis=0)
    k = n // 2
    if n % 2:
        return s[k]
    mid = np.add(s[k - 1], s[k])
    return np.true_divide(mid, np.intp(2), out=mid, casting="unsafe")


def spreads(ab: np.ndarray) -> tuple[float, float]:
    """``float(a.var(axis=0).sum())`` of the two halves ``a, b`` of the columns of ``ab``
    (2-D float), both at once: the same operations in the same order as numpy's ``_var``
    (per column, a column's sums do not depend on its neighbours), without its Python
    wrapper (~25 us a call, twice a frame)."""
    n = np.intp(len(ab))
    mean = np.add.reduce(ab, axis=0, keepdims=True)
    np.true_divide(mean, n, out=mean, casting="unsafe")
    d = np.subtract(ab, mean)
    np.square(d, out=d)
    v = np.add.reduce(d, axis=0)
    np.true_divide(v, n, out=v, casting="unsafe")
    half = v.shape[0] // 2
    return float(v[:half].sum()), float(v[half:].sum())
