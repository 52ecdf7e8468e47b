"""The face of a still image: found as a video's first frame, framed as the models were trained.

BlazeFace on the whole image finds faces frontal Haar misses (turned, tilted, low-resolution
web faces: on FER+ valid faces in a frame, Haar alone found 75 %; training.api_eval); where it
finds none, the tracker's Haar keyframe search runs (faces too small for its view). The shipped
models were trained on CK+48 crops, which are Haar boxes, so a BlazeFace face is framed by
Haar where Haar agrees: a window search around it (face sizes 0.6-1.6x), the candidate
overlapping the BlazeFace box most (IoU >= ``AGREE_IOU``) gives the box, BlazeFace the score;
where Haar sees no such face the box is BlazeFace's in Haar's average framing
(``tracker.blazeface_box``).

An uploaded face crop (a dataset's face image: the face fills it) is what the models were
trained on, so it is framed as they were: whole. A face box overlapping a square-ish image by
IoU >= ``FILLS_IOU`` makes the whole image the box. BlazeFace, trained on faces that fill part
of a frame, misses many such crops (42 of 600 FER+ *train* faces at 48 px): where nothing is
found in a small image, it is searched again centred on a canvas twice its size (``padded``;
39 of those 42 found). Both rules were fixed before any held-out face was sent through them
(the square-ish condition came after; every held-out crop is 48x48, so no figure moved).
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
# A box this close to the whole image (IoU) means the image is a face crop: the whole image is
# the box (the training crops' framing: CK+48 crops are Haar boxes, FER+ faces the crops).
FILLS_IOU = 0.5
# ... and only a square-ish image (the training crops are square; a close-up 640x480 selfie
# resized whole to 48x48 would be squashed by a third).
SQUARE_TOLERANCE = 0.1
# Images up to this side that show no face are searched again on a canvas twice their size
# (the canvas at most 1024 px: cheap, and no large upload is ever doubled in memory).
PAD_MAX_PX = 512
_WINDOW = 1.5  # the window searched around the face, in face sizes
_SIZES = (0.6, 1.6)  # the Haar face sizes searched, relative to the face


def is_face_crop(face: FaceBox, width: int, height: int) -> bool:
    """A square-ish image (sides within ``SQUARE_TOLERANCE``) that ``face`` fills (IoU >=
    ``FILLS_IOU``): a face crop, to be framed whole. A non-square one keeps the face's own box:
    resized whole to the models' square input it would be squashed."""
    square = abs(width - height) <= SQUARE_TOLERANCE * max(width, height)
    return square and iou(face, FaceBox(0, 0, width, height, 1.0)) >= FILLS_IOU


class StillFaceSearch:
    """``detect(grey)``: the largest face of one image (None: no face); thread-safe."""

    def __init__(self, detector: FaceDetector) -> None:
        self.detector = detector

    def detect(self, grey: np.ndarray) -> FaceBox | None:
        grey = as_grey(grey)
        height, width = grey.shape
        face = self._find(grey)
        if face is None and max(height, width) <= PAD_MAX_PX:
            face = self.padded(grey)
        if face is not None and is_face_crop(face, width, height):
            return FaceBox(0, 0, width, height, face.score)
        return face

    def padded(self, grey: np.ndarray) -> FaceBox | None:
        """The face of ``grey`` centred on a canvas twice its size (its median grey), in
        ``grey``'s pixels (clipped to it); None if none, or if under ``MIN_FACE_PX`` there."""
        height, width = grey.shape
        top, left = height // 2, width // 2
        canvas = np.full((2 * height, 2 * width), int(np.median(grey)), np.uint8)
        canvas[top : top + height, left : left + width] = grey
        face = self._find(canvas)
        if face is None:
            return None
        x0, y0 = max(face.x - left, 0), max(face.y - top, 0)
        x1, y1 = min(face.x + face.w - left, width), min(face.y + face.h - top, height)
        if min(x1 - x0, y1 - y0) <= 0 or max(x1 - x0, y1 - y0) < MIN_FACE_PX:
            return None
        return FaceBox(x0, y0, x1 - x0, y1 - y0, face.score)

    def _find(self, grey: np.ndarray) -> FaceBox | None:
        """The largest face as a video's first frame finds it, Haar-framed where Haar agrees."""
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
