"""Recognising uploads by content: every accepted format, and what must be refused."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from media_helpers import encode_image
from PIL import Image

from service.media import MediaLimits, UnsupportedMedia, open_media, sniff

_IMG = Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8))

VIDEOS = [
    ("mp4", "mpeg4"),
    ("mov", "libx264"),
    ("avi", "mpeg4"),
    ("matroska", "libx264"),
    ("webm", "libvpx"),
]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "WEBP", "TIFF"])
def test_images_are_recognised(fmt: str) -> None:
    assert sniff(encode_image(_IMG, fmt)[:64]) == "image"


def test_palette_and_grey_bmp_are_images() -> None:
    assert sniff(encode_image(_IMG.convert("P"), "BMP")[:64]) == "image"
    assert sniff(encode_image(_IMG.convert("L"), "BMP")[:64]) == "image"


@pytest.mark.parametrize(("fmt", "codec"), VIDEOS)
def test_videos_are_recognised(make_video, fmt: str, codec: str) -> None:
    assert sniff(make_video(fmt, codec, n=2)[:64]) == "video"


@pytest.mark.parametrize(
    "head",
    [
        encode_image(_IMG, "GIF"),
        os.urandom(64),
        bytes(64),
        b"",
        b"hello, this is plain text and not a picture at all\n",
        b"BM this is text that starts with BM",
        b"RIFF\x10\x00\x00\x00WAVEfmt ",  # a WAV file
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",  # HEIC still image
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1",  # AVIF still image
        b"%PDF-1.7\n",
    ],
    ids=[
        "gif",
        "random",
        "zeros",
        "empty",
        "text",
        "bm-text",
        "wav",
        "heic",
        "avif",
        "pdf",
    ],
)
def test_other_content_is_refused(head: bytes) -> None:
    assert sniff(head[:64]) is None
    with pytest.raises(UnsupportedMedia) as err:
        open_media(io.BytesIO(head), MediaLimits())
    assert err.value.status == 415


def test_sniff_reads_content_not_names(tmp_path) -> None:
    # A PNG saved as .mp4 and an MKV saved as .jpg: only the bytes count.
    png = tmp_path / "clip.mp4"
    png.write_bytes(encode_image(_IMG, "PNG"))
    with png.open("rb") as f, open_media(f, MediaLimits()) as media:
        assert media.info.kind == "image"
