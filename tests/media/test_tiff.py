"""TIFF uploads (research sets ship them): decoded like the other images, limits kept."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from service.media import MediaLimits, MediaTooLarge, UndecodableMedia, open_media

GREY = np.random.default_rng(1).integers(0, 256, (30, 40), dtype=np.uint8)


def tiff(image: Image.Image, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "TIFF", **params)
    return buf.getvalue()


def grey_of(data: bytes, limits: MediaLimits | None = None) -> np.ndarray:
    with open_media(io.BytesIO(data), limits or MediaLimits()) as source:
        assert source.info.kind == "image"
        return next(iter(source.frames(0.5))).image


@pytest.mark.parametrize("compression", [None, "tiff_lzw", "tiff_deflate", "packbits"])
def test_grey_tiff_decodes_exactly(compression: str | None) -> None:
    params = {"compression": compression} if compression else {}
    np.testing.assert_array_equal(grey_of(tiff(Image.fromarray(GREY), **params)), GREY)


def test_big_endian_16_bit_and_rgb_tiffs_are_grey() -> None:
    wide = (GREY.astype(np.uint16) * 257).astype(">u2")
    img16 = Image.frombytes("I;16B", (40, 30), wide.tobytes())
    np.testing.assert_array_equal(grey_of(tiff(img16)), GREY)
    rgb = Image.fromarray(np.stack([GREY] * 3, axis=-1))
    np.testing.assert_array_equal(grey_of(tiff(rgb)), GREY)


def test_multi_page_tiff_uses_the_first_page() -> None:
    first, second = Image.fromarray(GREY), Image.fromarray(255 - GREY)
    buf = io.BytesIO()
    first.save(buf, "TIFF", save_all=True, append_images=[second])
    np.testing.assert_array_equal(grey_of(buf.getvalue()), GREY)


def test_tiff_over_the_pixel_limit_is_413_before_decoding() -> None:
    with pytest.raises(MediaTooLarge):
        grey_of(tiff(Image.fromarray(GREY)), MediaLimits(max_pixels=1000))


def test_truncated_tiff_is_422() -> None:
    data = tiff(Image.fromarray(GREY), compression="tiff_lzw")
    with pytest.raises(UndecodableMedia):
        grey_of(data[: len(data) // 2])
