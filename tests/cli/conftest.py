"""A real gateway for the client and CLI tests: uvicorn in a subprocess on a free loopback port,
serving the tiny model repository with an API key, plus real face media."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import API_KEY, VIDEO_FPS, VIDEO_SECONDS, VIDEO_SIZE, Server
from PIL import Image
from skimage import data

from tools.facevideo import write_face_video
from tools.local_server import local_server


@pytest.fixture(scope="session")
def server(tiny_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``uvicorn service.app:app`` on 127.0.0.1:<free port>, ready (/readyz 200), keyed."""
    log = tmp_path_factory.mktemp("server") / "uvicorn.log"
    threads = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    with local_server(tiny_repository, api_keys=API_KEY, log=log, env=threads) as running:
        yield Server(running.url, API_KEY, log)


@pytest.fixture(scope="session")
def face_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 s, 15 fps MP4 of a real face (the astronaut photo, moving)."""
    width, height = VIDEO_SIZE
    path = tmp_path_factory.mktemp("media") / "astronaut.mp4"
    return write_face_video(path, seconds=VIDEO_SECONDS, fps=VIDEO_FPS, width=width, height=height)


@pytest.fixture(scope="session")
def face_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The astronaut photo as a JPEG (512x512, a real face)."""
    path = tmp_path_factory.mktemp("media") / "astronaut.jpg"
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buf, format="JPEG", quality=90)
    path.write_bytes(buf.getvalue())
    return path


@pytest.fixture(scope="session")
def not_media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "notes.txt"
    path.write_text("not an image or a video\n")
    return path
