"""Real face media for tests, benchmarks, load tests and docs, generated on demand.

The face is scikit-image's ``astronaut`` photograph (a real face, shipped inside the wheel), placed
on a plain canvas and drifting a little per frame, so detection and tracking see motion. Nothing
large is committed: clips are encoded in memory with PyAV.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import cv2
import numpy as np
from PIL import Image


def face_photo() -> np.ndarray:
    """The astronaut photograph, RGB uint8 512x512."""
    from skimage import data

    return data.astronaut()


def face_frame(photo: np.ndarray, i: int, width: int, height: int) -> np.ndarray:
    """Frame ``i`` of a clip: the photo at ~60 % of the frame height, drifting by a few pixels."""
    side = max(32, min(int(height * 0.6), width - 16))
    small = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 96, np.uint8)
    span_x, span_y = max(1, width - side), max(1, height - side)
    x = (width - side) // 2 + round(float(0.05 * span_x * np.sin(i / 15)))
    y = (height - side) // 2 + round(float(0.05 * span_y * np.cos(i / 20)))
    frame[y : y + side, x : x + side] = small
    return frame


def face_video(
    seconds: float = 2.0,
    fps: int = 30,
    width: int = 640,
    height: int = 480,
    *,
    fmt: str = "mp4",
    codec: str = "libx264",
) -> bytes:
    """Encode a clip of the drifting face photo; returns the container's bytes."""
    photo = face_photo()
    sink = io.BytesIO()
    with av.open(sink, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "veryfast", "crf": "23"}
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(face_frame(photo, i, width, height), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return sink.getvalue()


def face_image(width: int = 640, height: int = 480, fmt: str = "JPEG") -> bytes:
    """One still of the face photo on a canvas, encoded as ``fmt`` (Pillow format name)."""
    buf = io.BytesIO()
    Image.fromarray(face_frame(face_photo(), 0, width, height)).save(buf, format=fmt)
    return buf.getvalue()


if __name__ == "__main__":
    import sys

    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    path = sys.argv[2] if len(sys.argv) > 2 else "face.mp4"
    with open(path, "wb") as f:
        f.write(face_video(seconds))
    print(f"wrote {path}")
