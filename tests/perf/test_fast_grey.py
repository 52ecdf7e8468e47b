"""The luma-plane grey path of service.media equals PyAV's swscale conversion."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from av.video.reformatter import VideoReformatter
from skimage import data

from service import media as media_module
from service.media import _LIMITED_TO_FULL, MediaLimits, grey_frame, limited_to_full, open_media
from tools.facevideo import encode_video, face_video


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    photo = data.astronaut()
    return np.ascontiguousarray(photo[:300, :402])  # odd-free, not a multiple of 32 wide


@pytest.mark.parametrize(
    "fmt",
    [
        "yuv420p",
        "yuvj420p",
        "yuv422p",
        "yuv444p",
        "nv12",
        "gray",
        "rgb24",
        "yuv420p10le",
        "yuv422p10le",
        "yuv444p10le",
    ],
)
def test_grey_frame_matches_swscale(rgb, fmt) -> None:
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=fmt)
    got = grey_frame(frame)
    expected = frame.to_ndarray(format="gray")
    assert got.dtype == np.uint8 and got.shape == expected.shape == rgb.shape[:2]
    assert got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("color_range", "first", "last"), [(1, 64, 940), (2, 0, 1023)])
def test_10bit_luma_is_expanded_by_its_range(color_range, first, last) -> None:
    # Every 10-bit code (phones' HEVC Main 10), limited (64..940) and full range (0..1023):
    # swscale's grey is the range expansion within its dithering (one level).
    frame = av.VideoFrame(1024, 2, "yuv420p10le")
    plane = frame.planes[0]
    luma = np.frombuffer(memoryview(plane), np.uint16).reshape(2, plane.line_size // 2)
    luma[:, :1024] = np.arange(1024, dtype=np.uint16)
    frame.color_range = color_range
    got = grey_frame(frame)[0].astype(int)
    expected = np.clip(np.round((np.arange(1024) - first) * 255 / (last - first)), 0, 255)
    assert np.abs(got - expected).max() <= 1
    assert (got[:first] == 0).all() and (got[last + 1 :] == 255).all()


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


def _10bit_clip(rgb: np.ndarray, n: int = 5) -> bytes:
    frames = [np.ascontiguousarray(np.roll(rgb[:240, :320], i * 4, axis=1)) for i in range(n)]
    return encode_video(frames, 10, pix_fmt="yuv420p10le")


@pytest.mark.parametrize("codec", ["libx264", "mjpeg", "libx264-10bit"])
def test_decoded_video_frames_match_swscale(rgb, codec) -> None:
    clips = {"mjpeg": _mjpeg_clip, "libx264-10bit": _10bit_clip}
    clip = clips[codec](rgb) if codec in clips else face_video(0.5, 10, 320, 240)
    with open_media(io.BytesIO(clip), MediaLimits()) as media:
        fast = [f.image for f in media.frames(0)]
    with av.open(io.BytesIO(clip)) as container:
        slow = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    assert len(fast) == len(slow) == 5
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a, b)


def test_one_reformatter_serves_frames_of_any_format_and_size(rgb) -> None:
    # A stream's reformatter is reused on every frame; its cached swscale context must be
    # rebuilt, not misapplied, when a frame's format or size differs from the last one's.
    reformatter = VideoReformatter()
    for fmt, (h, w) in [
        ("yuv420p10le", (300, 402)),
        ("yuv420p10le", (120, 160)),
        ("rgb24", (120, 160)),
        ("yuv444p10le", (300, 402)),
        ("yuv420p10le", (300, 402)),
    ]:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[:h, :w]), "rgb24")
        frame = frame.reformat(format=fmt)
        np.testing.assert_array_equal(
            grey_frame(frame, reformatter), frame.to_ndarray(format="gray")
        )


def test_a_10bit_stream_builds_one_conversion_context(rgb, monkeypatch) -> None:
    # to_ndarray builds a swscale context on every frame (2.0 against 0.49 ms a 640x360
    # 10-bit frame reused): the video source keeps one reformatter for the whole stream.
    made: list[VideoReformatter] = []

    def counting() -> VideoReformatter:
        made.append(VideoReformatter())
        return made[-1]

    monkeypatch.setattr(media_module, "VideoReformatter", counting)
    with open_media(io.BytesIO(_10bit_clip(rgb, n=8)), MediaLimits()) as media:
        frames = [f.image for f in media.frames(0)]
    assert len(frames) == 8 and len(made) == 1
