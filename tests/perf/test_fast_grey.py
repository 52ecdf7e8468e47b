"""The luma-plane grey path of service.media equals PyAV's swscale conversion."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from skimage import data

from service.media import _LIMITED_TO_FULL, MediaLimits, grey_frame, limited_to_full, open_media
from tools.facevideo import face_video


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    photo = data.astronaut()
    return np.ascontiguousarray(photo[:300, :402])  # odd-free, not a multiple of 32 wide


@pytest.mark.parametrize(
    "fmt",
    ["yuv420p", "yuvj420p", "yuv422p", "yuv444p", "nv12", "gray", "rgb24", "yuv420p10le"],
)
def test_grey_frame_matches_swscale(rgb, fmt) -> None:
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=fmt)
    got = grey_frame(frame)
    expected = frame.to_ndarray(format="gray")
    assert got.dtype == np.uint8 and got.shape == expected.shape == rgb.shape[:2]
    assert got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("width", [1024, 999, 7])  # whole rows, a strided view, a narrow one
def test_limited_to_full_equals_the_table_on_every_value(width) -> None:
    # Row i is 0..255 repeated, shifted by i: every value at every SIMD lane position.
    rows = (np.arange(1024)[None, :] + np.arange(256)[:, None]) % 256
    rows = rows.astype(np.uint8)
    before = rows.copy()
    view = rows[:, :width]
    got = limited_to_full(view)
    assert got.flags.c_contiguous and got.shape == view.shape
    np.testing.assert_array_equal(got, _LIMITED_TO_FULL[view])
    np.testing.assert_array_equal(rows, before)  # the input is not modified


def test_limited_range_is_expanded(rgb) -> None:
    # The luma plane of limited-range video spans 16..235; grey frames span 0..255.
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    luma = np.frombuffer(frame.planes[0], np.uint8).reshape(frame.height, -1)[:, : frame.width]
    assert luma.min() >= 16 and luma.max() <= 235
    grey = grey_frame(frame)
    assert grey.min() < 16 and grey.max() > 235


def _mjpeg_clip(rgb: np.ndarray, n: int = 5) -> bytes:
    sink = io.BytesIO()
    with av.open(sink, "w", format="avi") as out:
        stream = out.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuvj420p"
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(np.roll(rgb[:240, :320], i * 4, axis=1), "rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return sink.getvalue()


@pytest.mark.parametrize("codec", ["libx264", "mjpeg"])
def test_decoded_video_frames_match_swscale(rgb, codec) -> None:
    clip = _mjpeg_clip(rgb) if codec == "mjpeg" else face_video(0.5, 10, 320, 240)
    with open_media(io.BytesIO(clip), MediaLimits()) as media:
        fast = [f.image for f in media.frames(0)]
    with av.open(io.BytesIO(clip)) as container:
        slow = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    assert len(fast) == len(slow) == 5
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a, b)
