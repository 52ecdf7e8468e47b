"""The model input crop of a detected face (model_artifact's one model-input function)."""

from __future__ import annotations

import numpy as np

from model_artifact.model_input import face_input
from service.faces.box import FaceBox, as_grey

# Margin around the box, as a fraction of the box size on each side. The shipped models are
# trained on CK+48 crops, which are Haar frontal-face boxes, so a bare Haar box frames a face
# like the training crops (docs/benchmarks.md, "Face detection: how the defaults were chosen").
DEFAULT_MARGIN = 0.0


def crop_face(
    grey: np.ndarray,
    box: FaceBox | None,
    region: str,
    size: tuple[int, int],
    margin: float = DEFAULT_MARGIN,
) -> np.ndarray:
    """The model input crop: ``box`` grown by ``margin``, its ``region``, resized to ``size``.

    ``box`` None means the whole frame is the face. See ``model_artifact.face_input``.
    """
    return face_input(as_grey(grey), None if box is None else box.xywh, region, size, margin)
