"""Real test media, generated in the test run: Pillow images and PyAV videos of a face photo."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from media_helpers import canvas_rgb
from skimage import data

from tools.facevideo import WriteOnly


@pytest.fixture(scope="session")
def astronaut_rgb() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="session")
def astronaut_grey(astronaut_rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(astronaut_rgb, cv2.COLOR_RGB2GRAY)


VideoWriter = Callable[..., bytes]


@pytest.fixture(scope="session")
def make_video(astronaut_rgb: np.ndarray) -> VideoWriter:
    """Encode a clip of the moving astronaut photo and return the file's bytes.

    ``pts_ms`` gives each frame's presentation time in milliseconds (variable frame rate or a
    non-zero start); otherwise frames are at ``fps``. ``sizes`` switches the resolution per
    frame (each size gets its own encoder; for intra-only codecs such as mjpeg).
    """

    def write(
        fmt: str,
        codec: str,
        *,
        n: int = 30,
        fps: int = 30,
        width: int = 320,
        height: int = 240,
        pts_ms: Sequence[int] | None = None,
        sizes: Sequence[tuple[int, int]] | None = None,
        container_options: dict[str, str] | None = None,
        seekable: bool = True,
    ) -> bytes:
        if container_options and "faststart" in container_options.get("movflags", ""):
            # The faststart pass reopens the output by name: write a real file.
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"clip.{fmt}"
                _encode(
                    astronaut_rgb,
                    path,
                    fmt,
                    codec,
                    n,
                    fps,
                    width,
                    height,
                    pts_ms,
                    sizes,
                    container_options,
                )
                return path.read_bytes()
        sink: io.BytesIO | WriteOnly = io.BytesIO() if seekable else WriteOnly()
        _encode(
            astronaut_rgb, sink, fmt, codec, n, fps, width, height, pts_ms, sizes, container_options
        )
        return sink.getvalue() if isinstance(sink, io.BytesIO) else sink.buffer.getvalue()

    return write


def _encode(photo, sink, fmt, codec, n, fps, width, height, pts_ms, sizes, container_options):
    """``make_video``'s encoder: ``n`` frames of the moving ``photo`` into ``sink``."""
    pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
    time_base = Fraction(1, 1000) if pts_ms is not None else Fraction(1, fps)
    sizes = list(sizes) if sizes is not None else [(width, height)] * n
    with av.open(sink, "w", format=fmt, options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = sizes[0]
        stream.pix_fmt = pix_fmt
        if pts_ms is not None:
            stream.codec_context.time_base = time_base
            stream.time_base = time_base
        encoders: dict[tuple[int, int], av.CodecContext] = {}
        for i, size in enumerate(sizes):
            img = canvas_rgb(photo, i, *size)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = pts_ms[i] if pts_ms is not None else i
            frame.time_base = time_base
            if size == sizes[0]:
                packets: Iterable[av.Packet] = stream.encode(frame)
            else:
                packets = _encode_resized(encoders, stream, codec, size, pix_fmt, frame)
            for packet in packets:
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _encode_resized(encoders, stream, codec, size, pix_fmt, frame):
    """``frame`` through its own ``codec`` encoder for ``size`` (made on first use); its packets
    are put in ``stream``, timed as the frame."""
    time_base = frame.time_base
    if size not in encoders:
        enc = av.CodecContext.create(codec, "w")
        enc.width, enc.height = size
        enc.pix_fmt, enc.time_base = pix_fmt, time_base
        encoders[size] = enc
    packets = encoders[size].encode(frame)
    for packet in packets:
        packet.stream = stream
        packet.pts = packet.dts = frame.pts
        packet.time_base = time_base
    return packets
