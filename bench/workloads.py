"""Benchmark media: real face clips and images from tools/facevideo.py, cached on disk.

Clips are the astronaut photograph drifting on a canvas (a real face from a real photograph),
H.264 at 30 fps, encoded once per (seconds, resolution) into ``bench/.cache/`` and reused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tools.facevideo import face_image, face_video

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


def clip(seconds: int, resolution: str, cache: Path = CACHE) -> Clip:
    """The cached clip, encoding it first if needed (atomic write)."""
    width, height = RESOLUTIONS[resolution]
    path = cache / f"face-{seconds}s-{resolution}-{FPS}fps.mp4"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(face_video(seconds, FPS, width, height))
        tmp.replace(path)
    return Clip(seconds, resolution, path)


def image(resolution: str = "480p") -> bytes:
    """One JPEG still of the face photo at ``resolution``."""
    return face_image(*RESOLUTIONS[resolution])
