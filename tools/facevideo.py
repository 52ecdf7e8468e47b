"""Real face media for tests, benchmarks, load tests and docs, generated on demand.

The face is scikit-image's ``astronaut`` photograph (a real face, shipped inside the wheel), placed
on a plain canvas and moving, so detection and tracking see motion: ``face_frame`` drifts the
whole photo a few pixels per frame (tests, benchmarks, load tests), ``portrait_frame`` moves and
zooms its head and shoulders (``write_face_video``: the CLI tests and the README picture).
Nothing large is committed: clips are encoded with PyAV. ``audio_only`` is the counter-case: a
container with sound and no picture.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

# The astronaut's head and shoulders in face_photo() (512x512; the face is about x 182-270,
# y 75-175): a square crop in which the face is a third of the width.
PORTRAIT = (slice(0, 264), slice(94, 358))


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


def portrait_frame(photo: np.ndarray, t: float, width: int, height: int) -> np.ndarray:
    """The frame at ``t`` seconds: the photo's head and shoulders (``PORTRAIT``) at 70-80 % of
    the frame height, zooming slowly and moving across up to a third of the free space."""
    side = round(height * (0.75 + 0.05 * math.sin(2 * math.pi * t / 4)))
    small = cv2.resize(photo[PORTRAIT], (side, side), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 90, np.uint8)
    x = round((width - side) / 2 + (width - side) / 3 * math.sin(2 * math.pi * t / 6))
    y = round((height - side) / 2 + (height - side) / 3 * math.cos(2 * math.pi * t / 5))
    frame[y : y + side, x : x + side] = small
    return frame


class WriteOnly:
    """A non-seekable sink: muxers cannot go back to write the duration into the header."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def write(self, chunk: bytes) -> int:
        return self.buffer.write(chunk)


def encode_video(
    frames: Iterable[np.ndarray],
    fps: int | Fraction,
    *,
    fmt: str = "mp4",
    codec: str = "libx264",
    options: dict[str, str] | None = None,
    pix_fmt: str = "yuv420p",
    seekable: bool = True,
    display: tuple[int, bool, bool] | None = None,
    pixel_aspect: Fraction | None = None,
) -> bytes:
    """Encode RGB ``frames`` (all the size of the first) at ``fps``; returns the container's
    bytes. ``options`` are the encoder's (e.g. x264 ``preset``/``crf``; None keeps its
    defaults); ``seekable=False`` writes to a sink the muxer cannot seek back in; ``display``
    (degrees counter-clockwise, hflip, vflip) writes a display matrix, as phones do for a
    portrait clip stored as landscape frames; ``pixel_aspect`` a sample aspect ratio, as DV and
    HDV camcorders do."""
    sink: io.BytesIO | WriteOnly = io.BytesIO() if seekable else WriteOnly()
    frames = iter(frames)
    first = next(frames)
    with av.open(sink, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        if not isinstance(stream, av.VideoStream):
            raise ValueError(f"{codec!r} is not a video codec")
        stream.height, stream.width = first.shape[:2]
        stream.pix_fmt = pix_fmt
        if options:
            stream.options = dict(options)
        if display is not None:
            degrees, hflip, vflip = display
            stream.set_display_rotation(degrees, hflip=hflip, vflip=vflip)
        if pixel_aspect is not None:
            stream.codec_context.sample_aspect_ratio = pixel_aspect
        for i, rgb in enumerate(itertools.chain([first], frames)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return sink.getvalue() if isinstance(sink, io.BytesIO) else sink.buffer.getvalue()


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
    frames = (face_frame(photo, i, width, height) for i in range(round(seconds * fps)))
    options = {"preset": "veryfast", "crf": "23"} if codec == "libx264" else None
    return encode_video(frames, fps, fmt=fmt, codec=codec, options=options)


def write_face_video(
    path: Path, *, seconds: float = 3.0, fps: int = 15, width: int = 320, height: int = 240
) -> Path:
    """Write ``path``: an MP4 (H.264, x264 defaults but mb-tree) of the moving, zooming portrait.

    x264's mb-tree rate control makes repeated encodes of the same frames differ (pixels by up
    to 42 levels, face boxes by 1-3 px); without it the file is the same every time, so the
    docs' figures (``make docs-images``) and the README's outputs can be reproduced."""
    photo = face_photo()
    frames = (portrait_frame(photo, i / fps, width, height) for i in range(round(seconds * fps)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_video(frames, fps, options={"x264-params": "no-mbtree=1"}))
    return path


def face_image(width: int = 640, height: int = 480, fmt: str = "JPEG") -> bytes:
    """One still of the face photo on a canvas, encoded as ``fmt`` (Pillow format name)."""
    buf = io.BytesIO()
    Image.fromarray(face_frame(face_photo(), 0, width, height)).save(buf, format=fmt)
    return buf.getvalue()


def audio_only(fmt: str, seconds: float = 1.0) -> bytes:
    """A container (``fmt``: mp4, matroska ...) holding only AAC silence, mono 16 kHz, at least
    ``seconds`` long (whole 1024-sample AAC frames); no video stream."""
    rate, samples = 16000, 1024
    sink = io.BytesIO()
    with av.open(sink, "w", format=fmt) as out:
        stream = out.add_stream("aac", rate=rate)
        for i in range(math.ceil(seconds * rate / samples)):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, samples), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts = rate, i * samples
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return sink.getvalue()


if __name__ == "__main__":
    import sys

    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    path = sys.argv[2] if len(sys.argv) > 2 else "face.mp4"
    with open(path, "wb") as f:
        f.write(face_video(seconds))
    print(f"wrote {path}")
