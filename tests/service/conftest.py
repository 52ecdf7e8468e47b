"""Gateway fixtures: a real app (embedded backend) over the tiny model repository."""

from __future__ import annotations

import io
from collections.abc import Callable

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data


@pytest.fixture(scope="session")
def face_photo() -> np.ndarray:
    """A real face photograph (scikit-image's astronaut), RGB."""
    return data.astronaut()


@pytest.fixture(scope="session")
def face_jpeg(face_photo: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(face_photo).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture(scope="session")
def no_face_png() -> bytes:
    """A real photograph without a face (scikit-image's coffee cup)."""
    buf = io.BytesIO()
    Image.fromarray(data.coffee()).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
