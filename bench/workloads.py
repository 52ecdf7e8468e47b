"""Benchmark media: real face clips and images from real photographs, cached on disk.

A clip is the astronaut photograph (tools/facevideo.py's face, drifting the same way) in front
of a real indoor photograph (scikit-image's coffee cup, no face in it) that pans half a pixel
per frame like a hand-held camera, with Gaussian sensor noise (sigma 6): H.264 at 30 fps, x264
veryfast CRF 23, about 0.6 Mbit/s at 480p, in the range of webcam and phone recordings. A flat
canvas (tools/facevideo.face_video) encodes to ~70 kbit/s and decodes several times faster
than real footage, which would make every "x decode floor" figure meaningless. Encoded once per
(seconds, resolution) into ``bench/.cache/`` and reused; the report gives each clip's bitrate.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from tools.facevideo import face_image, face_photo

NOISE_SIGMA = 6.0
PAN_PX_PER_FRAME = 0.5

CACHE = Path(__file__).resolve().parent / ".cache"
FPS = 30
RESOLUTIONS: dict[str, tuple[int, int]] = {
    "480p": (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
}


@dataclass(frozen=True)
class Clip:
    seconds: int
    resolution: str
    path: Path

    @property
    def name(self) -> str:
        return f"{self.seconds}s-{self.resolution}"

    @property
    def size(self) -> tuple[int, int]:
        return RESOLUTIONS[self.resolution]

    @property
    def frames(self) -> int:
        return self.seconds * FPS

    @property
    def kbps(self) -> float:
        return self.path.stat().st_size * 8 / self.seconds / 1000


def clip(seconds: int, resolution: str, cache: Path = CACHE) -> Clip:
    """The cached clip, encoding it first if needed (atomic write)."""
    width, height = RESOLUTIONS[resolution]
    path = cache / f"scene-{seconds}s-{resolution}-{FPS}fps.mp4"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(bench_video(seconds, width, height))
        tmp.replace(path)
    return Clip(seconds, resolution, path)


def bench_video(seconds: int, width: int, height: int) -> bytes:
    """Encode the clip described in the module docstring; returns the MP4's bytes."""
    from skimage import data

    n = seconds * FPS
    background = data.coffee()
    fit = max(
        (width + n * PAN_PX_PER_FRAME + 2) / background.shape[1],
        (height + 2) / background.shape[0],
    )
    background = cv2.resize(background, None, fx=fit, fy=fit, interpolation=cv2.INTER_AREA)
    side = max(32, min(int(height * 0.6), width - 16))  # as tools/facevideo.face_frame
    face = cv2.resize(face_photo(), (side, side), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    bank = [np.rint(rng.normal(0, NOISE_SIGMA, (height, width, 3))) for _ in range(8)]
    noise = [(np.clip(b, 0, 255).astype(np.uint8), np.clip(-b, 0, 255).astype(np.uint8))
             for b in bank]  # fmt: skip
    sink = io.BytesIO()
    with av.open(sink, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        for i in range(n):
            x0 = int(i * PAN_PX_PER_FRAME)
            frame = background[1 : 1 + height, x0 : x0 + width].copy()
            span_x, span_y = max(1, width - side), max(1, height - side)
            x = (width - side) // 2 + round(float(0.05 * span_x * np.sin(i / 15)))
            y = (height - side) // 2 + round(float(0.05 * span_y * np.cos(i / 20)))
            frame[y : y + side, x : x + side] = face
            up, down = noise[(i * 5) % len(noise)]
            frame = np.asarray(cv2.subtract(cv2.add(frame, up), down), np.uint8)
            video = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video.pts, video.time_base = i, Fraction(1, FPS)
            out.mux(stream.encode(video))
        out.mux(stream.encode())
    return sink.getvalue()


def image(resolution: str = "480p") -> bytes:
    """One JPEG still of the face photo at ``resolution`` (tools/facevideo.face_image)."""
    return face_image(*RESOLUTIONS[resolution])
