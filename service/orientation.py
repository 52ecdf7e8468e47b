"""Turn decoded video frames upright, as players show them.

Phones store a portrait clip as landscape frames plus a display matrix (MP4/MOV ``tkhd``,
H.264/HEVC display-orientation SEI) saying how to turn them; ffmpeg's decoders attach it to
every frame, but only players and the ffmpeg CLI apply it. Faces in an unturned frame lie on
their side, where frontal detectors find none. This module reads the matrix and applies it
to grey frames, so detection, boxes, ``media.width``/``height`` and the review page all see
the frame the way the person who recorded it did.

The matrix (ffmpeg's ``libavutil/display.h`` convention) maps a source pixel (x, y) to
(a·x + c·y, b·x + d·y) + offset, a to d in 16.16 fixed point. Right angles with or without a
mirror are applied exactly; any other angle is rounded to the nearest right angle (the CLI
would rotate by it; no phone writes one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import av
import cv2
import numpy as np
from av.sidedata.sidedata import SideDataContainer, Type

_ROTATE = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


@dataclass(frozen=True)
class Orientation:
    """Counter-clockwise quarter turns, after an optional left-right mirror of the source."""

    quarter_turns: int = 0
    mirror: bool = False

    @property
    def upright(self) -> bool:
        return self.quarter_turns == 0 and not self.mirror

    def size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of a ``width`` x ``height`` source frame once turned."""
        return (height, width) if self.quarter_turns % 2 else (width, height)

    def apply(self, grey: np.ndarray) -> np.ndarray:
        """``grey`` (HxW) turned; the same array when upright, else a new C-contiguous one."""
        if self.mirror:
            grey = cv2.flip(grey, 1)
        if self.quarter_turns:
            grey = cv2.rotate(grey, _ROTATE[self.quarter_turns])
        return grey


UPRIGHT = Orientation()


def from_matrix(matrix: np.ndarray) -> Orientation:
    """The orientation a 3x3 display matrix (9 int32, row-major) asks for."""
    a, b, _, c, d = (float(v) for v in np.asarray(matrix, dtype=np.float64).ravel()[:5])
    det = a * d - b * c
    if not all(math.isfinite(v) for v in (a, b, c, d)) or det == 0:
        return UPRIGHT
    mirror = det < 0
    if mirror:  # undo the mirror (x -> -x, i.e. negate a and b), leaving a pure rotation
        a, b = -a, -b
    # A counter-clockwise turn by t shows source (1, 0) at (cos t, -sin t) in image
    # coordinates (y down): (a, b) = (cos t, -sin t).
    turns = round(math.degrees(math.atan2(-b, a)) / 90) % 4
    return Orientation(turns, mirror)


def of_frame(frame: av.VideoFrame) -> Orientation:
    """The orientation of a decoded frame's display matrix; upright without one."""
    sides = cast(SideDataContainer, frame.side_data)  # PyAV's stub types it as a TypedDict
    try:
        side = sides[Type.DISPLAYMATRIX]
    except KeyError:
        return UPRIGHT
    if side.buffer_size < 36:
        return UPRIGHT
    return from_matrix(np.frombuffer(memoryview(side), dtype=np.int32, count=9))
