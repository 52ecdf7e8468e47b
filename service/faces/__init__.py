"""Faces in frames: detection, calibrated scores, tracking through a video, the model crop.

- ``detector``: Haar frontal-face search (``FaceDetector``, ``Candidate``);
- ``calibration``: the calibrated ``face.score`` models (``FULL_SEARCH``, ``WINDOW_SEARCH``);
- ``blazeface``: MediaPipe BlazeFace (TFLite) on a square of a frame;
- ``tracker``: per-video tracking (``FaceTracker``: BlazeFace + optical flow, bounded search);
- ``haar_tracker``: the Haar-only tracker (``HaarTracker``), the video tracker's fallback;
- ``crop``: the model input crop (``crop_face``, over ``model_artifact.face_input``).
"""

from service.faces.box import FaceBox, as_grey, iou
from service.faces.calibration import (
    BLAZEFACE,
    DEFAULT_MIN_SCORE,
    FULL_SEARCH,
    WINDOW_SEARCH,
    LogitScore,
    ScoreModel,
)
from service.faces.crop import DEFAULT_MARGIN, crop_face
from service.faces.detector import DEFAULT_DETECT_WIDTH, HAAR_CASCADE, Candidate, FaceDetector
from service.faces.haar_tracker import (
    DEFAULT_KEYFRAME_FACE_PX,
    DEFAULT_KEYFRAME_MIN_NEIGHBORS,
    DEFAULT_KEYFRAME_SCALE_FACTOR,
    DEFAULT_REFRESH_S,
    DEFAULT_TRACK_FACE_PX,
    HaarTracker,
)
from service.faces.tracker import FaceTracker, blazeface_box, shared_blazeface

__all__ = [
    "BLAZEFACE",
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
    "HaarTracker",
    "LogitScore",
    "ScoreModel",
    "as_grey",
    "blazeface_box",
    "crop_face",
    "iou",
    "shared_blazeface",
]
