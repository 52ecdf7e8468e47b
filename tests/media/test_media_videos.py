"""Video uploads decoded with PyAV: containers, sampling by timestamp, limits, damage."""

from __future__ import annotations

import io
import tempfile
import types

import av
import cv2
import numpy as np
import pytest
from media_helpers import canvas_rgb

from service.media import (
    MediaLimits,
    MediaTooLarge,
    UndecodableMedia,
    VideoSource,
    open_media,
)
from tools.facevideo import audio_only

CONTAINERS = [
    ("mp4", "libx264"),
    ("mp4", "mpeg4"),
    ("mov", "libx264"),
    ("avi", "mpeg4"),
    ("matroska", "libx264"),
    ("webm", "libvpx"),
    ("webm", "libvpx-vp9"),
]

# Variable frame rate: presentation times in ms, and what sampling every 0.5 s must keep
# (the first frame at or after each due time on the 0/0.5/1.0/... grid; after 1.6 s the
# due times 1.5 and 2.0 are both behind or at 1.6 -> next due 2.0, no burst).
VFR_PTS_MS = [0, 100, 200, 450, 520, 900, 1600, 1650, 2000, 2040]
VFR_KEPT = [(0, 0.0), (4, 0.52), (6, 1.6), (8, 2.0)]


def _open(data: bytes, limits: MediaLimits | None = None) -> VideoSource:
    media = open_media(io.BytesIO(data), limits or MediaLimits())
    assert isinstance(media, VideoSource)
    return media


def _sampled(data: bytes, interval: float, **kw) -> list[tuple[int, float]]:
    with _open(data) as media:
        return [(f.index, f.timestamp_s) for f in media.frames(interval, **kw)]


def _assert_kept(got: list[tuple[int, float]], expected: list[tuple[int, float]]) -> None:
    assert [i for i, _ in got] == [i for i, _ in expected]
    np.testing.assert_allclose([t for _, t in got], [t for _, t in expected], atol=1e-3)


@pytest.fixture(scope="module")
def clip_30fps(make_video) -> bytes:
    return make_video("mp4", "libx264", n=60, fps=30)  # 2 s


@pytest.mark.parametrize(("fmt", "codec"), CONTAINERS)
def test_containers_decode_every_frame_in_order(make_video, astronaut_rgb, fmt, codec) -> None:
    data = make_video(fmt, codec, n=30, fps=30)
    with _open(data) as media:
        info = media.info
        frames = list(media.frames(0))
    assert (info.kind, info.width, info.height) == ("video", 320, 240)
    assert info.fps == pytest.approx(30, rel=1e-3)
    assert info.duration_s == pytest.approx(1.0, abs=0.05)
    assert [f.index for f in frames] == list(range(30))
    np.testing.assert_allclose([f.timestamp_s for f in frames], np.arange(30) / 30, atol=2e-3)
    for f in frames[::7]:
        assert f.image.dtype == np.uint8 and f.image.shape == (240, 320)
        assert f.image.flags.c_contiguous
        source = cv2.cvtColor(canvas_rgb(astronaut_rgb, f.index), cv2.COLOR_RGB2GRAY)
        # Right frame, decoded to luma: close to the source's grey (lossy codecs, yuv420).
        assert np.abs(f.image.astype(int) - source).mean() < 6


def test_sampling_every_half_second_at_30_fps(clip_30fps) -> None:
    _assert_kept(_sampled(clip_30fps, 0.5), [(0, 0.0), (15, 0.5), (30, 1.0), (45, 1.5)])


def test_sampling_every_second_and_uneven_interval(clip_30fps) -> None:
    _assert_kept(_sampled(clip_30fps, 1.0), [(0, 0.0), (30, 1.0)])
    # 0.7 s: due 0, 0.7, 1.4 -> frames 0, 21 (0.7 s), 42 (1.4 s).
    _assert_kept(_sampled(clip_30fps, 0.7), [(0, 0.0), (21, 0.7), (42, 1.4)])


def test_interval_zero_is_every_frame(clip_30fps) -> None:
    assert [i for i, _ in _sampled(clip_30fps, 0)] == list(range(60))


@pytest.mark.parametrize("fmt", ["matroska", "mp4"])
def test_variable_frame_rate_is_sampled_by_timestamp(make_video, fmt) -> None:
    data = make_video(fmt, "libx264", n=len(VFR_PTS_MS), pts_ms=VFR_PTS_MS)
    every = _sampled(data, 0)
    np.testing.assert_allclose([t for _, t in every], np.array(VFR_PTS_MS) / 1000, atol=1e-3)
    _assert_kept(_sampled(data, 0.5), VFR_KEPT)


@pytest.mark.parametrize("fmt", ["matroska", "mp4"])
def test_first_timestamp_not_zero(make_video, fmt) -> None:
    pts = [1000 + 40 * i for i in range(50)]  # 25 fps starting at 1 s
    data = make_video(fmt, "libx264", n=len(pts), pts_ms=pts, fps=25)
    with av.open(io.BytesIO(data)) as raw:  # the premise: the stream really starts late
        first = next(raw.decode(video=0))
        assert first.time == pytest.approx(1.0, abs=1e-3)
    # Relative to the first frame: 0, 0.52 (0.48 < 0.5), 1.0, 1.52 (grid, not 0.52 + 0.5).
    _assert_kept(_sampled(data, 0.5), [(0, 0.0), (13, 0.52), (25, 1.0), (38, 1.52)])


def test_max_frames_caps_sampling(clip_30fps) -> None:
    assert [i for i, _ in _sampled(clip_30fps, 0, max_frames=7)] == list(range(7))
    assert len(_sampled(clip_30fps, 0.5, max_frames=2)) == 2
    with _open(clip_30fps, MediaLimits(max_frames=5)) as media:
        assert len(list(media.frames(0, max_frames=10))) == 5  # the limit caps the request
    with _open(clip_30fps, MediaLimits(max_frames=5)) as media:
        assert len(list(media.frames(0))) == 5


def test_frames_is_lazy_and_single_pass(clip_30fps) -> None:
    with _open(clip_30fps) as media:
        frames = media.frames(0)
        assert isinstance(frames, types.GeneratorType)
        assert next(frames).index == 0
        with pytest.raises(RuntimeError):
            media.frames(0)
    with _open(clip_30fps) as media, pytest.raises(ValueError):
        media.frames(-0.5)  # checked on the call, not on the first next()


def test_duration_over_limit_from_metadata(clip_30fps) -> None:
    with pytest.raises(MediaTooLarge) as err:
        open_media(io.BytesIO(clip_30fps), MediaLimits(max_video_s=1.5))
    assert err.value.status == 413
    with _open(clip_30fps, MediaLimits(max_video_s=2.5)):
        pass


def test_duration_limit_enforced_while_decoding(make_video) -> None:
    # Written to a non-seekable sink, the MKV header carries no duration: only the decoded
    # timestamps can tell the clip is too long.
    data = make_video("matroska", "libx264", n=90, fps=30, seekable=False)  # 3 s
    with _open(data, MediaLimits(max_video_s=2.0)) as media:
        assert media.info.duration_s is None
        seen = []
        with pytest.raises(MediaTooLarge):
            for frame in media.frames(0.5):
                seen.append(frame.timestamp_s)
    np.testing.assert_allclose(seen, [0.0, 0.5, 1.0, 1.5, 2.0], atol=1e-3)


def test_video_pixel_limit(clip_30fps) -> None:
    with pytest.raises(MediaTooLarge):
        open_media(io.BytesIO(clip_30fps), MediaLimits(max_pixels=320 * 240 - 1))


@pytest.mark.parametrize("fmt", ["matroska", "avi"])
def test_resolution_change_midway(make_video, fmt) -> None:
    sizes = [(320, 240)] * 4 + [(480, 360)] * 4
    data = make_video(fmt, "mjpeg", n=len(sizes), fps=10, sizes=sizes)
    with _open(data) as media:
        assert (media.info.width, media.info.height) == (320, 240)
        shapes = [f.image.shape for f in media.frames(0)]
    assert shapes == [(240, 320)] * 4 + [(360, 480)] * 4


def test_resolution_change_to_over_the_pixel_limit(make_video) -> None:
    sizes = [(320, 240)] * 3 + [(480, 360)] * 3
    data = make_video("matroska", "mjpeg", n=len(sizes), fps=10, sizes=sizes)
    with _open(data, MediaLimits(max_pixels=320 * 240)) as media:
        frames = media.frames(0)
        assert [next(frames).index for _ in range(3)] == [0, 1, 2]
        with pytest.raises(MediaTooLarge):
            next(frames)


@pytest.mark.parametrize("fmt", ["mp4", "matroska"])
def test_audio_only_is_undecodable(fmt) -> None:
    with pytest.raises(UndecodableMedia, match="no video stream") as err:
        open_media(io.BytesIO(audio_only(fmt, seconds=0.6)), MediaLimits())
    assert err.value.status == 422


def test_truncated_mp4_without_its_index_is_undecodable(clip_30fps) -> None:
    # PyAV (like most muxers) writes the moov index last: a cut file has none.
    with pytest.raises(UndecodableMedia):
        open_media(io.BytesIO(clip_30fps[: len(clip_30fps) * 9 // 10]), MediaLimits())


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("mp4", {"movflags": "+faststart"}), ("matroska", None), ("avi", None)],
)
def test_truncated_video_keeps_the_frames_before_the_cut(make_video, fmt, options) -> None:
    codec = "mpeg4" if fmt == "avi" else "libx264"
    data = make_video(fmt, codec, n=60, fps=30, container_options=options)
    cut = data[: len(data) * 9 // 10]
    got = _sampled(cut, 0)
    assert 1 <= len(got) < 60
    assert [i for i, _ in got] == list(range(len(got)))
    np.testing.assert_allclose([t for _, t in got], np.arange(len(got)) / 30, atol=2e-3)
    # Cut before any frame can be decoded: 422 (at open, not halfway through iteration).
    with pytest.raises(UndecodableMedia):
        open_media(io.BytesIO(data[:400]), MediaLimits())


@pytest.mark.parametrize(
    "head",
    [b"\x1a\x45\xdf\xa3", b"RIFF\x00\x10\x00\x00AVI LIST", b"\x00\x00\x00\x18ftypisom"],
    ids=["mkv", "avi", "mp4"],
)
def test_garbage_after_a_video_signature_is_undecodable(head: bytes) -> None:
    junk = np.random.default_rng(3).bytes(4000)
    with pytest.raises(UndecodableMedia):
        open_media(io.BytesIO(head + junk), MediaLimits())


@pytest.mark.parametrize("max_size", [0, 10**7], ids=["on-disk", "in-memory"])
def test_spooled_upload_file(clip_30fps, max_size: int) -> None:
    # FastAPI's UploadFile.file is a SpooledTemporaryFile, rolled to disk past its max size.
    with tempfile.SpooledTemporaryFile(max_size=max_size) as upload:
        upload.write(clip_30fps)
        upload.seek(17)  # wherever the upload left the position
        with open_media(upload, MediaLimits()) as media:
            assert len(list(media.frames(0.5))) == 4
