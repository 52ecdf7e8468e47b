"""A BlazeFace face framed as the models were trained: Haar's box, where Haar agrees.

The shipped models were trained on CK+48 crops, which are frontal Haar boxes. BlazeFace finds
faces Haar misses, and its box sits differently on the face (``tracker.blazeface_box`` moves it
into Haar's *average* framing). Where Haar sees the same face, its own box is better: a window
search around the face (face sizes 0.6-1.6x, full resolution), the candidate overlapping the
BlazeFace box most (IoU >= ``AGREE_IOU``) gives the box. On held-out CK+ faces in a frame
this framing scored 0.906 against 0.823 without it (docs/model-card.md, "Through the API").

A video's tracker measures the framing once per full search (``Framing.between``) and applies
it to the BlazeFace boxes that confirm the face until the next one (``Framing.apply``): Haar
runs every ``refresh_s`` of media, not on every frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.faces.box import FaceBox, clipped, iou
from service.faces.detector import FaceDetector

AGREE_IOU = 0.5
# Faces under Haar's 24 px window are not reported by a still-image search, nor framed.
MIN_FACE_PX = 24
_WINDOW = 1.5  # the window searched around the face, in face sizes
_SIZES = (0.6, 1.6)  # the Haar face sizes searched, relative to the face


def haar_box(detector: FaceDetector, grey: np.ndarray, face: FaceBox) -> FaceBox | None:
    """Haar's box of ``face`` (with ``face``'s score), or None where Haar does not agree."""
    side = max(face.w, face.h)
    if side < MIN_FACE_PX:
        return None
    cx, cy = face.x + face.w / 2, face.y + face.h / 2
    half = _WINDOW * side / 2
    window = (round(cx - half), round(cy - half), round(cx + half), round(cy + half))
    lo, hi = (max(MIN_FACE_PX, round(f * side)) for f in _SIZES)
    cands = detector.search(grey, 1.0, window=window, min_side=lo, max_side=hi)
    best = max((c.face_box() for c in cands), key=lambda b: iou(b, face), default=None)
    if best is None or iou(best, face) < AGREE_IOU:
        return None
    return FaceBox(best.x, best.y, best.w, best.h, face.score)


@dataclass(frozen=True)
class Framing:
    """Haar's box relative to a BlazeFace box: centre shift and size ratio, in box sizes."""

    dx: float
    dy: float
    sx: float
    sy: float

    @classmethod
    def between(cls, blaze: FaceBox, haar: FaceBox) -> Framing:
        return cls(
            (haar.x + haar.w / 2 - blaze.x - blaze.w / 2) / blaze.w,
            (haar.y + haar.h / 2 - blaze.y - blaze.h / 2) / blaze.h,
            haar.w / blaze.w,
            haar.h / blaze.h,
        )

    def apply(self, box: FaceBox, width: int, height: int) -> FaceBox:
        """``box`` (a BlazeFace box) in this framing, clipped to a ``width`` x ``height`` frame."""
        w, h = box.w * self.sx, box.h * self.sy
        cx = box.x + box.w / 2 + self.dx * box.w
        cy = box.y + box.h / 2 + self.dy * box.h
        return clipped(cx - w / 2, cy - h / 2, w, h, box.score, width, height)
