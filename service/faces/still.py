"""The face of a still image: found as a video's first frame, framed as the models were trained.

BlazeFace on the whole image finds faces frontal Haar misses (turned, tilted, low-resolution
web faces: on FER+ valid faces in a frame, Haar alone found 75 %; training.api_eval); where it
finds none, the tracker's Haar keyframe search runs (faces too small for its view). The shipped
models were trained on CK+48 crops, which are Haar boxes, so a BlazeFace face is framed by
Haar where Haar agrees: a window search around it (face sizes 0.6-1.6x), the candidate
overlapping the BlazeFace box most (IoU >= ``AGREE_IOU``) gives the box, BlazeFace the score;
where Haar sees no such face the box is BlazeFace's in Haar's average framing
(``tracker.blazeface_box``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from service.faces.box import FaceBox, as_grey, iou
from service.faces.detector import FaceDetector
from service.faces.tracker import FaceTracker

AGREE_IOU = 0.5
# Faces under Haar's 24 px window are not reported: BlazeFace, letterboxing a tiny image up to
# its 128 px input, finds "faces" in upscaled noise (a 23x23 noise image gave a 13 px box), and
# a crop that small carries nothing the 48 px models can read.
MIN_FACE_PX = 24
_WINDOW = 1.5  # the window searched around the face, in face sizes
_SIZES = (0.6, 1.6)  # the Haar face sizes searched, relative to the face


class StillFaceSearch:
    """``detect(grey)``: the largest face of one image (None: no face); thread-safe."""

    def __init__(self, detector: FaceDetector) -> None:
        self.detector = detector

    def detect(self, grey: np.ndarray) -> FaceBox | None:
        grey = as_grey(grey)
        tracker = FaceTracker(self.detector)
        found = tracker.detect(grey)
        if found is None or max(found.w, found.h) < MIN_FACE_PX:
            return None
        if tracker.haar_searches:  # Haar's own box already
            return found
        return self.haar_framed(grey, found) or found

    def haar_framed(self, grey: np.ndarray, face: FaceBox) -> FaceBox | None:
        """Haar's box of ``face`` (BlazeFace's score), or None where Haar does not agree."""
        side = max(face.w, face.h)
        cx, cy = face.x + face.w / 2, face.y + face.h / 2
        half = _WINDOW * side / 2
        window = (round(cx - half), round(cy - half), round(cx + half), round(cy + half))
        lo, hi = (max(MIN_FACE_PX, round(f * side)) for f in _SIZES)
        cands = self.detector.search(grey, 1.0, window=window, min_side=lo, max_side=hi)
        boxes = [c.face_box() for c in cands]
        best = max(boxes, key=lambda b: iou(b, face), default=None)
        if best is None or iou(best, face) < AGREE_IOU:
            return None
        return FaceBox(best.x, best.y, best.w, best.h, face.score)


class FaceSearch(Protocol):
    """What finds the face of a frame searched alone (``FaceDetector``, ``StillFaceSearch``)."""

    def detect(self, grey: np.ndarray) -> FaceBox | None: ...


def image_search(name: str, detector: FaceDetector) -> FaceSearch:
    """The still-image search ``MMED_IMAGE_DETECTOR`` names: ``blazeface`` (this module) or
    ``haar`` (``detector`` alone, the earlier search)."""
    if name == "blazeface":
        return StillFaceSearch(detector)
    if name == "haar":
        return detector
    raise ValueError(f"image_detector must be blazeface or haar, not {name!r}")
