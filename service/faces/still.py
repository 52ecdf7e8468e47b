"""The face of a still image: found as a video's first frame, framed as the models were trained.

BlazeFace on the whole image finds faces frontal Haar misses (turned, tilted, low-resolution
web faces: on FER+ valid faces in a frame, Haar alone found 75 %; training.api_eval); where it
finds none, the tracker's Haar keyframe search runs (faces too small for its view). The face is
in Haar's framing as the tracker's full search gives it (``framing``: Haar's own box where Haar
agrees, else BlazeFace's in Haar's average framing).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from service.faces.box import FaceBox, as_grey
from service.faces.detector import FaceDetector
from service.faces.framing import MIN_FACE_PX
from service.faces.tracker import FaceTracker

# Faces under Haar's 24 px window (``MIN_FACE_PX``) are not reported: BlazeFace, letterboxing a
# tiny image up to its 128 px input, finds "faces" in upscaled noise (a 23x23 noise image gave
# a 13 px box), and a crop that small carries nothing the 48 px models can read.


class StillFaceSearch:
    """``detect(grey)``: the largest face of one image (None: no face); thread-safe."""

    def __init__(self, detector: FaceDetector) -> None:
        self.detector = detector

    def detect(self, grey: np.ndarray) -> FaceBox | None:
        found = FaceTracker(self.detector).detect(as_grey(grey))
        if found is None or max(found.w, found.h) < MIN_FACE_PX:
            return None
        return found


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
