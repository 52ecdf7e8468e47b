"""Video frames as a player shows them: turned upright and with square pixels.

Two things in a video's metadata change the picture a player shows, and ffmpeg's decoders
apply neither:
- A display matrix (MP4/MOV ``tkhd``, H.264/HEVC orientation SEI; ffmpeg attaches it to every
  frame). Phones store a portrait clip as landscape frames plus a quarter turn; unturned, the
  face lies on its side and frontal detectors miss it or the model misreads it.
- A sample (pixel) aspect ratio other than 1 (DV, HDV and broadcast camcorders: 1440x1080
  shown as 1920x1080, 720x480 as 640x480): faces are squashed or stretched.

``Display.apply`` turns a decoded frame (grey or colour) into the picture shown, so detection,
face crops, boxes, ``media.width``/``height``, the review page (Chromium applies both) and
``mmed --annotate`` all see the same frame. The aspect is corrected by shrinking one side,
never enlarging the other: a frame never gains pixels, whatever a file claims.

The matrix (ffmpeg's ``libavutil/display.h`` convention) maps a source pixel (x, y) to
(a·x + c·y, b·x + d·y) + offset, a to d in 16.16 fixed point. Right angles with or without a
mirror are applied exactly; any other angle is rounded to the nearest right angle (the CLI
would rotate by it; no phone writes one).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

import av
import cv2
import numpy as np
from av.sidedata.sidedata import SideDataContainer, Type

_ROTATE = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}
# Sample aspect ratios within this of 1 are square pixels (rounding in muxers: 1.0001 etc.).
_SQUARE = 0.01


@dataclass(frozen=True)
class Display:
    """How to show a decoded frame: scale to square pixels, mirror left-right, then turn
    ``quarter_turns`` counter-clockwise."""

    quarter_turns: int = 0
    mirror: bool = False
    pixel_aspect: Fraction = Fraction(1)

    def size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) shown for a ``width`` x ``height`` decoded frame."""
        width, height = self._square(width, height)
        return (height, width) if self.quarter_turns % 2 else (width, height)

    def apply(self, image: np.ndarray) -> np.ndarray:
        """``image`` (HxW or HxWxC) as shown: the same array when nothing changes."""
        if self.pixel_aspect != 1:
            size = self._square(image.shape[1], image.shape[0])
            if size != (image.shape[1], image.shape[0]):
                # Bilinear: one side shrinks by 3/4 or 8/9 (HDV, DV); INTER_AREA, 1.8x the
                # cost (0.32 against 0.18 ms a 480x360 frame here), is not needed for that.
                image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
        if self.mirror:
            image = cv2.flip(image, 1)
        if self.quarter_turns:
            image = cv2.rotate(image, _ROTATE[self.quarter_turns])
        return image

    def _square(self, width: int, height: int) -> tuple[int, int]:
        sar = self.pixel_aspect
        if sar > 1:  # wide pixels: the picture is wider than stored; shrink its height
            return width, max(1, round(height / sar))
        if sar < 1:  # narrow pixels: shrink the width
            return max(1, round(width * sar)), height
        return width, height


IDENTITY = Display()


def from_matrix(matrix: np.ndarray) -> Display:
    """The turn and mirror a 3x3 display matrix (9 int32, row-major) asks for."""
    a, b, _, c, d = (float(v) for v in np.asarray(matrix, dtype=np.float64).ravel()[:5])
    det = a * d - b * c
    if not all(math.isfinite(v) for v in (a, b, c, d)) or det == 0:
        return IDENTITY
    mirror = det < 0
    if mirror:  # undo the mirror (x -> -x, i.e. negate a and b), leaving a pure rotation
        a, b = -a, -b
    # A counter-clockwise turn by t shows source (1, 0) at (cos t, -sin t) in image
    # coordinates (y down): (a, b) = (cos t, -sin t).
    turns = round(math.degrees(math.atan2(-b, a)) / 90) % 4
    return Display(turns, mirror)


def pixel_aspect(stream: av.VideoStream) -> Fraction:
    """The stream's sample aspect ratio; 1 when absent, unusable or within 1 % of square."""
    sar = stream.sample_aspect_ratio
    if sar is None or sar.numerator <= 0 or sar.denominator <= 0:
        return Fraction(1)
    sar = Fraction(sar)
    return Fraction(1) if abs(sar - 1) <= _SQUARE else sar


def of(frame: av.VideoFrame, stream: av.VideoStream) -> Display:
    """How to show ``stream``'s frames, read off its first decoded ``frame``."""
    return dataclasses.replace(_of_matrix(frame), pixel_aspect=pixel_aspect(stream))


def _of_matrix(frame: av.VideoFrame) -> Display:
    sides = cast(SideDataContainer, frame.side_data)  # PyAV's stub types it as a TypedDict
    try:
        side = sides[Type.DISPLAYMATRIX]
    except KeyError:
        return IDENTITY
    if side.buffer_size < 36:
        return IDENTITY
    return from_matrix(np.frombuffer(memoryview(side), dtype=np.int32, count=9))
