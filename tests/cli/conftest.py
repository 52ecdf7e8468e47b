"""A real gateway for the client and CLI tests: uvicorn in a subprocess on a free loopback port,
serving the tiny model repository with an API key, plus real face media."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cli_helpers import API_KEY, VIDEO_FPS, VIDEO_SECONDS, VIDEO_SIZE, Server
from PIL import Image
from skimage import data

from tools.face_video import write_face_video

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tiny_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``uvicorn service.app:app`` on 127.0.0.1:<free port>; ready when /readyz answers 200."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "uvicorn.log"
    env = {
        **os.environ,
        "MMED_MODEL_REPOSITORY": str(tiny_repository),
        "MMED_API_KEYS": API_KEY,
        "MMED_BACKEND": "embedded",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
    }
    cmd = [sys.executable, "-m", "uvicorn", "service.app:app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {START_TIMEOUT_S:g} s:\n{log.read_text()}")
            time.sleep(0.25)
        yield Server(url, API_KEY, log)
    finally:
        _stop(proc)


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
