"""Haar-only tracking: a full search now and then, a small Haar search around the last face.

The video tracker (``service.faces.tracker.FaceTracker``) uses its keyframe search as the
fallback for faces BlazeFace misses; ``WINDOW_SEARCH`` is calibrated on its window search.

How the defaults were chosen (scenes, timings): docs/benchmarks.md, "Face detection: how the
defaults were chosen".
"""

from __future__ import annotations

import math

import numpy as np

from service.faces.box import FaceBox, as_grey
from service.faces.calibration import WINDOW_SEARCH
from service.faces.detector import Candidate, FaceDetector

# A full search at least every 10 s of media; keyframes: a coarse search (scale steps 1.2,
# 3 neighbours, the smallest face at 36 px); tracked faces searched at 48 px.
DEFAULT_REFRESH_S = 10.0
DEFAULT_KEYFRAME_FACE_PX: int | None = 36
DEFAULT_KEYFRAME_SCALE_FACTOR = 1.2
DEFAULT_KEYFRAME_MIN_NEIGHBORS = 3
DEFAULT_TRACK_FACE_PX = 48


class HaarTracker:
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
        grey = as_grey(grey)
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
            box = self.full_search(grey)
            self.full_searches += 1
            self._last_full = timestamp_s
        self._last = box
        self._last_t = timestamp_s
        return box

    def full_search(self, grey: np.ndarray) -> FaceBox | None:
        """The keyframe search: coarse candidates confirmed by a window search, else the
        detector's own search."""
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
