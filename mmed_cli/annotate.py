"""``--annotate``: re-decode the input and write its sampled frames with face box and label.

Videos are decoded with PyAV the way the gateway does (ffmpeg's best video stream, every
decoded frame counted, turned and scaled as a player shows it by service/display.py), so a
result's ``index`` and ``face`` name the same frame and pixels here; images are read with
Pillow (EXIF orientation applied, as the gateway does). Drawing is OpenCV's.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter
from mmed_client.models import FrameResult
from PIL import Image, ImageOps

from mmed_cli.outcome import Result
from service import display
from service.display import Display

CODECS = {
    ".mp4": "libx264",
    ".mov": "libx264",
    ".mkv": "libx264",
    ".webm": "libvpx-vp9",
    ".avi": "mpeg4",
}
BOX = (60, 220, 60)  # BGR
NO_FACE = (60, 60, 230)


def _video_frames(path: Path, wanted: set[int]) -> Iterator[tuple[int, np.ndarray]]:
    """(index, BGR frame) for the decoded frames whose index is in ``wanted``."""
    with av.open(str(path)) as container:
        stream = container.streams.best("video") or container.streams.video[0]
        if not isinstance(stream, av.VideoStream):
            raise ValueError(f"{path}: no video stream")
        stream.codec_context.thread_type = "AUTO"
        last = max(wanted)
        index = 0
        shown: Display | None = None
        bgr = VideoReformatter()  # one swscale context for the stream, not one a frame
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:  # the gateway skips rejected packets too
                continue
            for frame in (f for f in decoded if isinstance(f, av.VideoFrame)):
                if shown is None:
                    shown = display.of(frame, stream)
                if index in wanted:
                    yield index, shown.apply(bgr.reformat(frame, format="bgr24").to_ndarray())
                if index >= last:
                    return
                index += 1


def _image_frame(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def draw(image: np.ndarray, frame: FrameResult) -> np.ndarray:
    """The frame with its face box, label and confidence, and its time in the corner."""
    out = image.copy()
    h, w = out.shape[:2]
    scale = max(0.4, min(w, h) / 600)
    thick = max(2, round(2 * scale))
    font = cv2.FONT_HERSHEY_SIMPLEX
    if frame.face is not None:
        f = frame.face
        cv2.rectangle(out, (f.x, f.y), (f.x + f.w, f.y + f.h), BOX, thick)
        text = f"{frame.label} {frame.confidence:.2f}" if frame.label else "face"
        (tw, th), base = cv2.getTextSize(text, font, scale, thick)
        top = f.y - th - base - 4 if f.y - th - base - 4 >= 0 else f.y + f.h
        cv2.rectangle(out, (f.x, top), (f.x + tw + 4, top + th + base + 4), BOX, cv2.FILLED)
        cv2.putText(out, text, (f.x + 2, top + th + 2), font, scale, (0, 0, 0), thick)
    else:
        cv2.putText(out, "no face", (8, h - 10), font, scale, NO_FACE, thick)
    stamp = f"#{frame.index}  t={frame.timestamp_s:.2f}s"
    cv2.putText(out, stamp, (8, 8 + round(22 * scale)), font, scale, (255, 255, 255), thick + 2)
    cv2.putText(out, stamp, (8, 8 + round(22 * scale)), font, scale, (0, 0, 0), thick)
    return out


def _even(image: np.ndarray) -> np.ndarray:
    """Pad to even width and height (4:2:0 chroma subsampling needs them)."""
    h, w = image.shape[:2]
    return cv2.copyMakeBorder(image, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)


def _rate(result: Result) -> Fraction:
    """Play the sampled frames back at the pace they were sampled (median spacing)."""
    times = [f.timestamp_s for f in result.frames]
    gaps = sorted(b - a for a, b in itertools.pairwise(times) if b > a)
    if gaps:
        return Fraction(1 / gaps[len(gaps) // 2]).limit_denominator(1000)
    return Fraction(result.media.fps or 1.0).limit_denominator(1000)


def _source_frames(source: Path, result: Result) -> Iterator[tuple[int, np.ndarray]]:
    """(index, BGR frame) of each sampled frame of ``result`` in ``source``."""
    if result.media.kind == "image":
        return iter([(result.frames[0].index, _image_frame(source))])
    return _video_frames(source, {f.index for f in result.frames})


def _video_stream(
    container: av.container.OutputContainer, codec: str, rate: Fraction, shape: tuple[int, ...]
) -> av.VideoStream:
    """A yuv420p stream of ``codec`` at ``rate`` for frames of ``shape`` (height, width)."""
    stream = container.add_stream(codec, rate=rate)
    if not isinstance(stream, av.VideoStream):
        raise ValueError(f"{codec!r} is not a video codec")
    stream.height, stream.width = shape[0], shape[1]
    stream.pix_fmt = "yuv420p"
    return stream


def annotate(source: Path, result: Result, out: Path) -> int:
    """Write ``out`` (codec by suffix: .mp4/.mov/.mkv H.264, .webm VP9, .avi MPEG-4) with one
    annotated frame per sampled frame of ``result``; returns the number of frames written."""
    codec = CODECS.get(out.suffix.lower())
    if codec is None:
        raise ValueError(f"unsupported video suffix {out.suffix!r}; use one of {sorted(CODECS)}")
    frames = {f.index: f for f in result.frames}
    if not frames:
        raise ValueError(f"{source}: the result has no sampled frame to draw")
    images = _source_frames(source, result)
    rate = _rate(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with av.open(str(out), "w") as container:
        stream: av.VideoStream | None = None
        for index, image in images:
            canvas = _even(draw(image, frames[index]))
            if stream is None:
                stream = _video_stream(container, codec, rate, canvas.shape[:2])
            if canvas.shape[:2] != (stream.height, stream.width):
                canvas = cv2.resize(canvas, (stream.width, stream.height))
            vf = av.VideoFrame.from_ndarray(canvas, format="bgr24")
            vf.pts, vf.time_base = written, 1 / rate
            for packet in stream.encode(vf):
                container.mux(packet)
            written += 1
        if stream is not None:
            for packet in stream.encode():
                container.mux(packet)
    if written != len(frames):
        raise RuntimeError(
            f"{source}: decoded {written} of the {len(frames)} sampled frames; "
            "the file differs from the one the server saw"
        )
    return written
