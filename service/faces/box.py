"""The face box every detector returns, and the grey-frame check they share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FaceBox:
    """A face in frame pixel coordinates; ``score`` is a confidence in [0, 1]."""

    x: int
    y: int
    w: int
    h: int
    score: float

    @property
    def xywh(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.w, self.h


def as_grey(grey: np.ndarray) -> np.ndarray:
    """``grey`` as a contiguous 2-D uint8 array; ValueError for anything else."""
    if not isinstance(grey, np.ndarray) or grey.ndim != 2 or grey.dtype != np.uint8:
        raise ValueError("expected a 2-D uint8 grey image")
    return np.ascontiguousarray(grey)


def iou(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes."""
    iw = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    ih = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = iw * ih
    return inter / (a.w * a.h + b.w * b.h - inter) if inter else 0.0
