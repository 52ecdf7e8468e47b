"""A short real-face video for docs and tests: scikit-image's astronaut photo (head and
shoulders), drifting and zooming slowly on a grey canvas, encoded with PyAV (H.264 in MP4)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

# The astronaut's head and shoulders in data.astronaut() (512x512; the face is about
# x 182-270, y 75-175): a square crop in which the face is a third of the width.
PORTRAIT = (slice(0, 264), slice(94, 358))


def face_frame(photo: np.ndarray, t: float, width: int, height: int) -> np.ndarray:
    """The RGB frame at ``t`` seconds: the portrait at 70-80% of the frame height, moving."""
    side = round(height * (0.75 + 0.05 * math.sin(2 * math.pi * t / 4)))
    small = cv2.resize(photo[PORTRAIT], (side, side), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 90, np.uint8)
    x = round((width - side) / 2 + (width - side) / 3 * math.sin(2 * math.pi * t / 6))
    y = round((height - side) / 2 + (height - side) / 3 * math.cos(2 * math.pi * t / 5))
    frame[y : y + side, x : x + side] = small
    return frame


def write_face_video(
    path: Path, *, seconds: float = 3.0, fps: int = 15, width: int = 320, height: int = 240
) -> Path:
    """Write ``path`` (MP4, H.264, ``fps`` frames per second, ``seconds`` long)."""
    from skimage import data

    photo = data.astronaut()
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(face_frame(photo, i / fps, width, height), "rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
