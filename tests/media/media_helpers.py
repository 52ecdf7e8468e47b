"""Helpers shared by the media and face tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# <repo>/../shared, as the project's tests locate shared data.
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
CKPLUS = SHARED / "data" / "ckplus5"

FACE_SIDE = 160  # the astronaut photo's side on the video canvas
# The astronaut's face (forehead to chin, cheek to cheek) in data.astronaut(), labelled by eye
# on the 512x512 photo: x 182-270, y 75-175.
ASTRONAUT_FACE = (182, 75, 88, 100)


def face_position(i: int) -> tuple[int, int]:
    """Top-left corner of the photo on the canvas in frame ``i`` (it drifts a little)."""
    return 20 + i % 40, 20 + (i // 2) % 20


def canvas_rgb(photo: np.ndarray, i: int, width: int = 320, height: int = 240) -> np.ndarray:
    """Frame ``i``: the photo, scaled to FACE_SIDE, on a plain canvas, moved per frame."""
    side = min(FACE_SIDE, height - 40, width - 60)
    small = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 90, np.uint8)
    x, y = face_position(i)
    frame[y : y + side, x : x + side] = small
    return frame


def encode_image(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()
