"""Gateway fixtures: a real app (embedded backend) over the tiny model repository."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data

from service.app import create_app
from service.settings import Settings


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
def make_client(tiny_repository: Path) -> Iterator[Callable[..., TestClient]]:
    """Factory for started TestClients; settings overrides as keyword arguments."""
    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        settings = Settings(model_repository=tiny_repository, **overrides)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
