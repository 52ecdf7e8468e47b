"""Upload decoding: recognise an image or a video by content, check limits, yield grey frames.

Images (JPEG, PNG, BMP, WebP, TIFF) are decoded with Pillow, videos (MP4/MOV, AVI, MKV/WebM)
with PyAV, both straight from the uploaded file object (no temporary files). Every failure
becomes a :class:`MediaError` carrying its HTTP status: 415 not an image or video, 422 undecodable,
413 over the limits.

Documented choices:
- Animated WebP, multi-page TIFF: the first frame/page is used (the upload is an image).
- TIFF: any compression Pillow's libtiff decodes (research sets ship it); the pixel limit is
  checked from the header before any strip or tile is decompressed.
- Alpha (RGBA, LA, palette or RGB with transparency) is composited over white, as a viewer
  shows it, before conversion to grey; 16-bit samples are scaled (x/257), not clipped.
- Truncated or partly corrupt video: the frames decoded up to the damage are kept (ffmpeg
  mostly reports a cut file as a normal end of stream); a packet the decoder rejects is skipped
  and a read error from the container ends the stream (``VideoSource.decode_errors`` counts
  both). A video that yields no frame at all is 422, and so is an MP4/MOV whose index (moov,
  written last by most muxers) was cut off.
- Truncated images are 422 (Pillow's strict loading; a PNG that lost only its trailer still
  decodes, since its pixels are complete).
- A video's first frame is decoded in :func:`open_media`, so a file with no decodable frame
  fails there (422) and ``info`` has the real frame size even when the container omits it.
- Frames are what a viewer or player shows: images follow their EXIF orientation, videos
  their display matrix (a phone's portrait clip is stored as landscape frames plus a turn)
  and pixel aspect ratio (service/display.py), so frames, boxes and ``info`` match the
  picture on screen.
- The ffmpeg demuxer is forced to the one the magic bytes name (mov/mp4, avi, matroska), so an
  upload can never reach ffmpeg's other demuxers (playlists, concat lists) through probing.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import BinaryIO, Literal

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageOps

from service import display

MediaKind = Literal["image", "video"]

_HEAD_BYTES = 64

# Pillow plugins tried on an image upload (and the formats they report).
_PIL_FORMATS = ("JPEG", "PNG", "BMP", "WEBP", "TIFF")
# MPO: a multi-picture (phone) JPEG
_PIL_REPORTED = {"JPEG", "MPO", "PNG", "BMP", "WEBP", "TIFF"}
# TIFF byte orders (little/big endian) with classic (42) and BigTIFF (43) version numbers.
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")

# BMP DIB header sizes: core (12), OS/2 v2 (16, 64), info v1-v5 (40, 52, 56, 108, 124).
_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}

# ISO-BMFF major brands of still images (HEIF/HEIC/AVIF, Canon raw): not accepted uploads.
_IMAGE_BRANDS = {
    b"heic",
    b"heix",
    b"heim",
    b"heis",
    b"hevc",
    b"hevx",
    b"mif1",
    b"msf1",
    b"avif",
    b"avis",
    b"crx ",
}
# Classic QuickTime files may start with one of these atoms instead of ftyp.
_QUICKTIME_ATOMS = {b"moov", b"mdat", b"wide"}

_TS_EPSILON = 1e-6  # seconds; absorbs float rounding of exact timestamps (e.g. 15 * 1/30)

# round(x / 257) for every 16-bit sample x (257 is odd: no ties, so integer rounding is exact).
_SCALE_16_TO_8 = ((np.arange(65536, dtype=np.uint32) + 128) // 257).astype(np.uint8)


# Grey frames straight from the luma plane for the common 8-bit YUV layouts: a copy (plus a
# lookup table for limited-range video) instead of a swscale conversion, which costs more than
# decoding the frame (about 4 ms per 480p frame). The table is swscale's own limited→full
# range expansion of Y (16..235 → 0..255); tests/perf/test_fast_grey.py checks the result
# against ``to_ndarray(format="gray")``. Other formats take the swscale path.
_LUMA_LIMITED = {"yuv420p", "yuv422p", "yuv444p", "yuv440p", "yuv411p", "yuv410p", "nv12", "nv21"}
_LUMA_FULL = {"yuvj420p", "yuvj422p", "yuvj444p", "yuvj440p", "yuvj411p", "gray"}
_LIMITED_TO_FULL = np.clip(np.round((np.arange(256) - 16) * 255 / 219), 0, 255).astype(np.uint8)
_RANGE_UNSPECIFIED, _RANGE_MPEG = 0, 1
# The same expansion as arithmetic, Y * 255/219 - 16 * 255/219 rounded and saturated (below
# 16 it saturates to 0) in one SIMD pass of OpenCV's addWeighted (the second operand weighted
# 0): equal to the table on all 256 values (no value lies near a rounding tie: 255/219 =
# 85/73), 2-3x faster than cv2.LUT and 1.2x faster than a max then a convertScaleAbs.
_SCALE, _OFFSET = 255 / 219, -16 * 255 / 219


def limited_to_full(luma: np.ndarray) -> np.ndarray:
    """``_LIMITED_TO_FULL[luma]``, a new C-contiguous array (``luma`` may be a strided view)."""
    return cv2.addWeighted(luma, _SCALE, luma, 0.0, _OFFSET)


def grey_frame(frame: av.VideoFrame, reformatter: VideoReformatter | None = None) -> np.ndarray:
    """The frame as 8-bit full-range grey, HxW, C-contiguous (its own memory).

    Formats without an 8-bit luma plane (10-bit HEVC from phones, RGB, palettes) go through
    swscale: pass one ``reformatter`` per stream so its conversion context is built once.
    ``frame.to_ndarray`` builds a new one on every frame (PyAV keeps it on the frame), which
    cost 2.0 ms a 640x360 10-bit frame against 0.49 ms reused, the same pixels."""
    name = frame.format.name
    limited = name in _LUMA_LIMITED and frame.color_range in (_RANGE_UNSPECIFIED, _RANGE_MPEG)
    if limited or name in _LUMA_FULL:
        plane = frame.planes[0]
        luma = np.frombuffer(memoryview(plane), np.uint8, count=plane.line_size * frame.height)
        luma = luma.reshape(frame.height, plane.line_size)[:, : frame.width]
        return limited_to_full(luma) if limited else luma.copy()
    if reformatter is None:
        reformatter = VideoReformatter()
    return np.ascontiguousarray(reformatter.reformat(frame, format="gray").to_ndarray())


class MediaError(Exception):
    """An upload that cannot be used; ``status``/``title`` map it to problem+json."""

    status: int = 422
    title: str = "Unprocessable media"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnsupportedMedia(MediaError):
    """Not an image or a video of an accepted format (judged by content)."""

    status = 415
    title = "Unsupported media type"


class UndecodableMedia(MediaError):
    """Recognised, but cannot be decoded (truncated, corrupt, no video stream)."""

    status = 422
    title = "Undecodable media"


class MediaTooLarge(MediaError):
    """Frame size, video duration or frame count over the configured limits."""

    status = 413
    title = "Media too large"


@dataclass(frozen=True)
class MediaLimits:
    """Per-upload limits; ``max_frames`` caps the sampled frames (a cap, not an error)."""

    max_pixels: int = 40_000_000
    max_video_s: float = 600.0
    max_frames: int = 2000


@dataclass(frozen=True)
class MediaInfo:
    kind: MediaKind
    width: int
    height: int
    fps: float | None
    duration_s: float | None


@dataclass(frozen=True)
class Frame:
    index: int
    timestamp_s: float
    image: np.ndarray


def _identify(head: bytes) -> tuple[MediaKind, str | None] | None:
    """(kind, ffmpeg demuxer for videos) from the first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", None
    if (
        head.startswith(b"BM")
        and len(head) >= 18
        and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES
    ):
        return "image", None
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image", None
    if head.startswith(_TIFF_MAGIC):
        return "image", None
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video", "avi"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "matroska"
    if head[4:8] == b"ftyp" and len(head) >= 12:
        return None if head[8:12] in _IMAGE_BRANDS else ("video", "mov")
    if head[4:8] in _QUICKTIME_ATOMS:
        return "video", "mov"
    return None


def sniff(head: bytes) -> MediaKind | None:
    """'image' or 'video' from the magic bytes at the start of a file (not its name), or None."""
    found = _identify(head)
    return found[0] if found else None


class MediaSource:
    """A decoded upload; use as a context manager so containers are closed."""

    info: MediaInfo

    def frames(self, sample_interval: float, max_frames: int | None = None) -> Iterator[Frame]:
        """Grey frames, one per ``sample_interval`` seconds (0 = every frame)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release decoder resources (idempotent)."""

    def __enter__(self) -> MediaSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _frame_cap(limits: MediaLimits, max_frames: int | None) -> int:
    cap = limits.max_frames if max_frames is None else min(max_frames, limits.max_frames)
    if cap < 1:
        raise ValueError("max_frames must be >= 1")
    return cap


class ImageSource(MediaSource):
    """A still image: one frame at t = 0 (decoded once, at open)."""

    def __init__(self, grey: np.ndarray, limits: MediaLimits) -> None:
        self._grey = grey
        self._limits = limits
        height, width = grey.shape
        self.info = MediaInfo("image", width, height, None, None)

    def frames(self, sample_interval: float, max_frames: int | None = None) -> Iterator[Frame]:
        if sample_interval < 0 or not math.isfinite(sample_interval):
            raise ValueError("sample_interval must be a finite number >= 0")
        _frame_cap(self._limits, max_frames)
        return iter([Frame(0, 0.0, self._grey)])


class VideoSource(MediaSource):
    """A video stream decoded lazily, frame by frame, in presentation order.

    ``frames`` can be iterated once. ``decode_errors`` counts the packets the decoder rejected
    (skipped) and a container read error (which ends the stream).
    """

    def __init__(self, container: av.container.InputContainer, limits: MediaLimits) -> None:
        self._container = container
        self._limits = limits
        self._started = False
        self.decode_errors = 0
        self._last_error: Exception | None = None
        if not container.streams.video:
            raise UndecodableMedia("no video stream")
        # ffmpeg's choice (av_find_best_stream): prefers a real video over cover art.
        stream = container.streams.best("video") or container.streams.video[0]
        if not isinstance(stream, av.VideoStream):
            raise UndecodableMedia("no video stream")
        ctx = stream.codec_context
        if ctx is None:
            raise UndecodableMedia("no decoder for the video stream's codec")
        ctx.thread_type = "AUTO"  # frame and slice threading
        self._stream = stream
        self._reformatter = VideoReformatter()  # one swscale context per stream
        _check_pixels(ctx.width, ctx.height, limits, "video")
        duration = _stream_duration(container, stream)
        if duration is not None and duration > limits.max_video_s:
            raise MediaTooLarge(
                f"video lasts {duration:.1f} s; the limit is {limits.max_video_s:g} s"
            )
        fps = _stream_fps(stream, duration)
        self._fps = fps
        self._decoded = self._decode()
        first = next(self._decoded, None)
        if first is None:
            raise UndecodableMedia(self._no_frame_detail())
        self._first: av.VideoFrame | None = first
        # The stream's display matrix rides on every frame; the first one's holds for all.
        self._display = display.of(first, stream)
        width, height = self._display.size(first.width, first.height)
        self.info = MediaInfo("video", width, height, fps, duration)

    def _no_frame_detail(self) -> str:
        reason = f": {_reason(self._last_error)}" if self._last_error else ""
        return f"no decodable video frame{reason}"

    def _decode(self) -> Generator[av.VideoFrame, None, None]:
        """Decoded frames; skips packets the decoder rejects, stops at a read error."""
        demuxed = self._container.demux(self._stream)
        while True:
            try:
                packet = next(demuxed)
            except StopIteration:
                return
            except Exception as exc:  # truncated or corrupt container (av.error.FFmpegError)
                self.decode_errors += 1
                self._last_error = exc
                return
            try:
                decoded = packet.decode()
            except Exception as exc:  # a corrupt packet (av.error.FFmpegError): skip it
                self.decode_errors += 1
                self._last_error = exc
                continue
            yield from (frame for frame in decoded if isinstance(frame, av.VideoFrame))

    def frames(self, sample_interval: float, max_frames: int | None = None) -> Iterator[Frame]:
        if sample_interval < 0 or not math.isfinite(sample_interval):
            raise ValueError("sample_interval must be a finite number >= 0")
        cap = _frame_cap(self._limits, max_frames)
        if self._started:
            raise RuntimeError("a video source's frames can be iterated only once")
        self._started = True
        return self._sample(sample_interval, cap)

    def _sample(self, interval: float, cap: int) -> Iterator[Frame]:
        first = self._first
        self._first = None
        assert first is not None
        t0 = _frame_time(first)
        if t0 is None:
            t0 = 0.0
        previous = t0
        next_due = 0.0
        emitted = 0
        frames = _chain_first(first, self._decoded)
        for index, frame in enumerate(frames):
            try:
                t = _frame_time(frame)
                if t is None:  # no pts: continue from the previous frame at the nominal rate
                    t = previous + (1.0 / self._fps if self._fps else 0.0)
                previous = t
                ts = max(t - t0, 0.0) if index else 0.0
                if ts > self._limits.max_video_s:
                    raise MediaTooLarge(
                        f"video runs past {self._limits.max_video_s:g} s (decoded timestamp "
                        f"{ts:.1f} s; the container's duration was missing or wrong)"
                    )
                _check_pixels(frame.width, frame.height, self._limits, "video frame")
                if ts + _TS_EPSILON < next_due:
                    continue
                image = self._display.apply(grey_frame(frame, self._reformatter))
            except MediaError:
                raise
            except Exception as exc:  # any PyAV/ffmpeg failure on this frame
                raise UndecodableMedia(
                    f"cannot convert video frame {index}: {_reason(exc)}"
                ) from exc
            yield Frame(index, ts, image)
            emitted += 1
            if emitted >= cap:
                return
            if interval > 0:
                # Next due time on the interval grid, strictly after this frame (no bursts
                # after a gap; a jittery VFR stream keeps the nominal sampling rate).
                next_due += interval * (math.floor((ts - next_due) / interval + _TS_EPSILON) + 1)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._decoded.close()
        with contextlib.suppress(Exception):
            self._container.close()


def _chain_first(first: av.VideoFrame, rest: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
    yield first
    yield from rest


def _frame_time(frame: av.VideoFrame) -> float | None:
    if frame.pts is None or frame.time_base is None:
        return None
    return float(frame.pts * frame.time_base)


def _stream_duration(
    container: av.container.InputContainer, stream: av.VideoStream
) -> float | None:
    """Seconds from the stream's metadata, else the container's; None when neither says."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _stream_fps(stream: av.VideoStream, duration: float | None) -> float | None:
    """Average frame rate from metadata; else guessed from the codec, frame count, duration."""
    for rate in (stream.average_rate, stream.guessed_rate):
        if rate:
            return float(Fraction(rate))
    if stream.frames and duration:
        return stream.frames / duration
    return None


def _reason(exc: BaseException) -> str:
    """An ffmpeg error's message without PyAV's file-name suffix ('<none>' for file objects)."""
    return getattr(exc, "strerror", None) or str(exc)


def _check_pixels(width: int, height: int, limits: MediaLimits, what: str) -> None:
    if width * height > limits.max_pixels:
        raise MediaTooLarge(
            f"{what} is {width}x{height} = {width * height} pixels; "
            f"the limit is {limits.max_pixels}"
        )


def _open_image(file: BinaryIO, limits: MediaLimits) -> ImageSource:
    try:
        # Image.open reads the header only. Pillow's own guard (Image.MAX_IMAGE_PIXELS, left
        # at its default) raises DecompressionBombError above twice that; ours is checked next.
        with Image.open(file, formats=_PIL_FORMATS) as im:
            if im.format not in _PIL_REPORTED:
                raise UnsupportedMedia(f"unsupported image format {im.format}")
            _check_pixels(im.width, im.height, limits, "image")
            im.load()
            ImageOps.exif_transpose(im, in_place=True)  # no copy of the pixels when upright
            grey = _to_grey(im)
    except MediaError:
        raise
    except Image.DecompressionBombError as exc:
        raise MediaTooLarge(str(exc)) from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error ...
        raise UndecodableMedia(f"cannot decode image: {exc}") from exc
    return ImageSource(grey, limits)


def _to_grey(im: Image.Image) -> np.ndarray:
    """8-bit grey HxW (C-contiguous) from any Pillow mode."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit samples (PNG opens them as I;16 or I): scale to 8 bits instead of clipping,
        # through a table (1 byte per pixel out; float arithmetic cost ~25 bytes per pixel).
        values = np.asarray(im)
        if values.dtype != np.uint16:
            values = np.clip(values, 0, 65535)
        return _SCALE_16_TO_8[values]
    if im.mode == "F":
        return np.ascontiguousarray(np.clip(np.rint(np.asarray(im)), 0, 255).astype(np.uint8))
    if im.mode == "L" and "transparency" not in im.info:
        return np.array(im, dtype=np.uint8)
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info:
        # Over white: the grey pasted through the alpha, the same as compositing the colours
        # (luma is linear) at 3 bytes per pixel instead of 16.
        rgba = im if im.mode == "RGBA" else im.convert("RGBA")
        grey = Image.new("L", rgba.size, 255)
        grey.paste(rgba.convert("L"), mask=rgba.getchannel("A"))
        return np.array(grey, dtype=np.uint8)
    if im.mode in ("1", "P"):
        return np.array(im.convert("L"), dtype=np.uint8)
    # RGB, CMYK (Adobe-inverted JPEG handled by Pillow), YCbCr, LAB, HSV: luma (ITU-R 601-2).
    rgb = im if im.mode == "RGB" else im.convert("RGB")
    return np.array(rgb.convert("L"), dtype=np.uint8)


def _open_video(file: BinaryIO, fmt: str, limits: MediaLimits) -> VideoSource:
    try:
        container = av.open(file, mode="r", format=fmt)
    except Exception as exc:  # av.error.FFmpegError and its subclasses, mostly
        raise UndecodableMedia(f"cannot open video: {_reason(exc)}") from exc
    try:
        return VideoSource(container, limits)
    except MediaError:
        container.close()
        raise
    except Exception as exc:
        container.close()
        raise UndecodableMedia(f"cannot decode video: {_reason(exc)}") from exc


def open_media(file: BinaryIO, limits: MediaLimits) -> MediaSource:
    """Recognise ``file`` (a seekable binary file object) by content and open it.

    Raises UnsupportedMedia (415), UndecodableMedia (422) or MediaTooLarge (413); sizes and
    durations are checked from headers/metadata before pixels are decoded. A video's duration
    limit is enforced again on decoded timestamps while its frames are iterated.
    """
    try:
        file.seek(0)
        head = file.read(_HEAD_BYTES)
        file.seek(0)
    except Exception as exc:
        raise UndecodableMedia(f"cannot read the upload: {exc}") from exc
    found = _identify(head or b"")
    if found is None:
        raise UnsupportedMedia(
            "not an image (JPEG, PNG, BMP, WebP, TIFF) or a video (MP4, MOV, AVI, MKV, WebM)"
        )
    kind, fmt = found
    if kind == "image":
        return _open_image(file, limits)
    assert fmt is not None
    return _open_video(file, fmt, limits)
