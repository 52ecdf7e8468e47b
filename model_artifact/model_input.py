"""The model input: one function that turns an image and a face box into the model's crop.

Training (``training.data.prepare``, on face-crop images) and serving (``service.faces.crop_face``,
on frames with a detected box) both call :func:`face_input`, so the crop the models see at
serving time is made exactly as the crops they were trained on (tests/media/test_model_input.py
checks the bytes).
"""

from __future__ import annotations

import cv2
import numpy as np

from model_artifact.regions import crop_region

Box = tuple[int, int, int, int]  # x, y, w, h in image pixels


def face_input(
    grey: np.ndarray,
    box: Box | None,
    region: str,
    size: tuple[int, int],
    margin: float = 0.0,
) -> np.ndarray:
    """``box`` grown by ``margin``, cut from ``grey``, its ``region``, resized (INTER_AREA).

    ``box`` None means the whole image is the face (no margin): a training image or an
    uploaded face crop. ``margin`` is a fraction of the box's width/height added on each side;
    parts of the grown box outside the image are filled by edge replication, so the crop keeps
    the box's aspect and centre. ``size`` is ``(height, width)``; the result is uint8 HxW.
    """
    if not isinstance(grey, np.ndarray) or grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError("expected a 2-D uint8 grey image")
    height, width = size
    if height < 1 or width < 1:
        raise ValueError("size must be positive (height, width)")
    if margin <= -0.5:
        raise ValueError("margin must be > -0.5")
    crop = grey if box is None else _cut(grey, box, margin)
    crop = crop_region(crop, region)
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)


def _cut(grey: np.ndarray, box: Box, margin: float) -> np.ndarray:
    bx, by, bw, bh = box
    frame_h, frame_w = grey.shape
    x0 = round(bx - margin * bw)
    y0 = round(by - margin * bh)
    x1 = max(x0 + 1, round(bx + bw + margin * bw))
    y1 = max(y0 + 1, round(by + bh + margin * bh))
    inner = grey[max(y0, 0) : max(min(y1, frame_h), 0), max(x0, 0) : max(min(x1, frame_w), 0)]
    if inner.size == 0:
        raise ValueError(f"face box {box} lies outside the {frame_w}x{frame_h} frame")
    pads = (max(-y0, 0), max(y1 - frame_h, 0), max(-x0, 0), max(x1 - frame_w, 0))
    return cv2.copyMakeBorder(inner, *pads, cv2.BORDER_REPLICATE) if any(pads) else inner
