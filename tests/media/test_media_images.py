"""Image uploads: formats, orientation, every pixel mode to 8-bit grey, limits, damage."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from media_helpers import encode_image
from PIL import Image

from service.media import (
    MediaLimits,
    MediaTooLarge,
    UndecodableMedia,
    open_media,
)

RNG = np.random.default_rng(7)


def _smooth_rgb(height: int = 40, width: int = 64) -> np.ndarray:
    """A smooth colour image (lossy codecs keep it close)."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack(
        [x * 255 // (width - 1), y * 255 // (height - 1), (x + y) * 255 // (width + height - 2)],
        axis=-1,
    ).astype(np.uint8)


def _decode(data: bytes, limits: MediaLimits | None = None) -> np.ndarray:
    with open_media(io.BytesIO(data), limits or MediaLimits()) as media:
        frames = list(media.frames(0.5))
        assert media.info.kind == "image"
        assert media.info.fps is None and media.info.duration_s is None
    assert len(frames) == 1
    frame = frames[0]
    assert (frame.index, frame.timestamp_s) == (0, 0.0)
    assert frame.image.dtype == np.uint8 and frame.image.ndim == 2
    assert frame.image.flags.c_contiguous
    assert (media.info.height, media.info.width) == frame.image.shape
    return frame.image


@pytest.mark.parametrize(
    ("fmt", "params", "tolerance"),
    [
        ("JPEG", {"quality": 95}, 3.0),
        ("PNG", {}, 0.0),
        ("BMP", {}, 0.0),
        ("WEBP", {"lossless": True}, 0.0),
        ("WEBP", {"quality": 90}, 4.0),
    ],
)
def test_round_trip(fmt: str, params: dict, tolerance: float) -> None:
    rgb = _smooth_rgb()
    grey = _decode(encode_image(Image.fromarray(rgb), fmt, **params))
    expected = np.asarray(Image.fromarray(rgb).convert("L"), dtype=float)
    assert grey.shape == (40, 64)
    assert np.abs(grey - expected).mean() <= tolerance


def test_exif_orientation_is_applied() -> None:
    grey = np.zeros((40, 60), np.uint8)
    grey[:10, :15] = 255  # a bright block at the stored image's top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    data = encode_image(Image.fromarray(grey), "JPEG", quality=95, exif=exif.tobytes())
    out = _decode(data)
    assert out.shape == (60, 40)
    # Clockwise rotation moves the top-left block to the top-right.
    assert np.abs(out.astype(int) - np.rot90(grey, k=-1)).mean() < 4
    assert out[:15, -10:].mean() > 200 and out[:15, :10].mean() < 50


def test_16_bit_png_is_scaled_not_clipped() -> None:
    levels = RNG.integers(0, 256, (30, 50)).astype(np.uint16)
    data = encode_image(Image.fromarray(levels * 257), "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")  # really stored as 16-bit
    np.testing.assert_array_equal(_decode(data), levels.astype(np.uint8))


def test_cmyk_jpeg_gives_the_luma_of_its_colours() -> None:
    rgb = _smooth_rgb()
    data = encode_image(Image.fromarray(rgb).convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    expected = np.asarray(Image.fromarray(rgb).convert("L"), dtype=float)
    assert np.abs(_decode(data) - expected).mean() < 3


def test_rgba_png_is_composited_over_white() -> None:
    rgb = _smooth_rgb()
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, :20] = 0  # transparent
    alpha[:, 20:40] = 128  # half transparent
    data = encode_image(Image.fromarray(np.dstack([rgb, alpha])), "PNG")
    out = _decode(data).astype(int)
    luma = np.asarray(Image.fromarray(rgb).convert("L"), dtype=int)
    assert (out[:, :20] == 255).all()
    half = (luma[:, 20:40] * 128 + 255 * 127) / 255
    assert np.abs(out[:, 20:40] - half).max() <= 1
    assert np.abs(out[:, 40:] - luma[:, 40:]).max() <= 1


def test_palette_png_gives_the_grey_of_its_palette_colours() -> None:
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (250, 250, 250)]
    index = RNG.integers(0, 4, (24, 36)).astype(np.uint8)
    img = Image.fromarray(index, "P")
    img.putpalette([c for rgb in colours for c in rgb])
    out = _decode(encode_image(img, "PNG"))
    luma = np.array([(r * 299 + g * 587 + b * 114) / 1000 for r, g, b in colours])
    assert np.abs(out - luma[index]).max() <= 1


def test_palette_transparency_is_white() -> None:
    index = np.zeros((10, 10), np.uint8)
    index[5:] = 1
    img = Image.fromarray(index, "P")
    img.putpalette([0, 0, 0, 10, 10, 10])
    out = _decode(encode_image(img, "PNG", transparency=0))
    assert (out[:5] == 255).all() and (out[5:] == 10).all()


def test_animated_webp_gives_its_first_frame() -> None:
    black, white = Image.new("RGB", (32, 32), "black"), Image.new("RGB", (32, 32), "white")
    data = encode_image(black, "WEBP", save_all=True, append_images=[white], duration=100)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
    assert _decode(data).max() < 10


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _huge_png(width: int = 50_000, height: int = 50_000) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    idat = zlib.compress(b"\x00" * 1024)  # far too little data; never read
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _huge_jpeg(width: int = 50_000, height: int = 50_000) -> bytes:
    data = bytearray(encode_image(Image.new("L", (16, 16), 128), "JPEG"))
    sof = data.index(b"\xff\xc0")  # SOF0: marker, length(2), precision(1), height(2), width(2)
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize("make", [_huge_png, _huge_jpeg], ids=["png", "jpeg"])
@pytest.mark.parametrize("max_pixels", [40_000_000, 10**10], ids=["ours", "pillow-guard"])
def test_huge_header_is_refused_before_decoding(make, max_pixels: int) -> None:
    data = make()
    start = time.perf_counter()
    with pytest.raises(MediaTooLarge) as err:
        open_media(io.BytesIO(data), MediaLimits(max_pixels=max_pixels))
    assert time.perf_counter() - start < 1.0
    assert err.value.status == 413


def test_pixel_limit_applies_to_small_images_too() -> None:
    data = encode_image(Image.new("L", (64, 40)), "PNG")
    with pytest.raises(MediaTooLarge):
        open_media(io.BytesIO(data), MediaLimits(max_pixels=64 * 40 - 1))
    assert _decode(data, MediaLimits(max_pixels=64 * 40)).shape == (40, 64)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP"])
def test_truncated_image_is_undecodable(fmt: str) -> None:
    noise = RNG.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    data = encode_image(Image.fromarray(noise), fmt)
    with pytest.raises(UndecodableMedia) as err:
        open_media(io.BytesIO(data[: len(data) // 2]), MediaLimits())
    assert err.value.status == 422


@pytest.mark.parametrize(
    "head",
    [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x01\x00\x00WEBPVP8 "],
    ids=["jpeg", "png", "webp"],
)
def test_garbage_after_a_valid_signature_is_undecodable(head: bytes) -> None:
    with pytest.raises(UndecodableMedia):
        open_media(io.BytesIO(head + RNG.bytes(2000)), MediaLimits())


def test_frames_validates_its_arguments() -> None:
    with open_media(io.BytesIO(encode_image(Image.new("L", (8, 8)), "PNG")), MediaLimits()) as m:
        with pytest.raises(ValueError):
            m.frames(-1.0)
        with pytest.raises(ValueError):
            m.frames(0.5, max_frames=0)
        with pytest.raises(ValueError):
            m.frames(float("nan"))
