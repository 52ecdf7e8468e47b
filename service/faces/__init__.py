"""Faces in frames: detection, calibrated scores, tracking through a video, the model crop.

- ``detector``: Haar frontal-face search (``FaceDetector``, ``Candidate``);
- ``calibration``: the calibrated ``face.score`` models (``FULL_SEARCH``, ``WINDOW_SEARCH``);
- ``tracker``: per-video tracking between full searches (``FaceTracker``);
- ``crop``: the model input crop (``crop_face``, over ``model_artifact.face_input``).
"""

from service.faces.box import FaceBox, as_grey, iou
from service.faces.calibration import DEFAULT_MIN_SCORE, FULL_SEARCH, WINDOW_SEARCH, ScoreModel
from service.faces.crop import DEFAULT_MARGIN, crop_face
from service.faces.detector import DEFAULT_DETECT_WIDTH, HAAR_CASCADE, Candidate, FaceDetector
from service.faces.tracker import (
    DEFAULT_KEYFRAME_FACE_PX,
    DEFAULT_KEYFRAME_MIN_NEIGHBORS,
    DEFAULT_KEYFRAME_SCALE_FACTOR,
    DEFAULT_REFRESH_S,
    DEFAULT_TRACK_FACE_PX,
    FaceTracker,
)

__all__ = [
    "DEFAULT_DETECT_WIDTH",
    "DEFAULT_KEYFRAME_FACE_PX",
    "DEFAULT_KEYFRAME_MIN_NEIGHBORS",
    "DEFAULT_KEYFRAME_SCALE_FACTOR",
    "DEFAULT_MARGIN",
    "DEFAULT_MIN_SCORE",
    "DEFAULT_REFRESH_S",
    "DEFAULT_TRACK_FACE_PX",
    "FULL_SEARCH",
    "HAAR_CASCADE",
    "WINDOW_SEARCH",
    "Candidate",
    "FaceBox",
    "FaceDetector",
    "FaceTracker",
    "ScoreModel",
    "as_grey",
    "crop_face",
    "iou",
]
