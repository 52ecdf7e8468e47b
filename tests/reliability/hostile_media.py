"""The hostile-media corpus: uploads built in memory by the tests (nothing large committed).

Every case names the answer design §2 calls for: 200 for media the gateway can use (then a
``check`` on the JSON body), 413 over a limit, 415 not an image or video, 422 recognised but
undecodable. Sizes are small: the largest upload is well under 1 MB.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from tools import facevideo
from tools.facevideo import audio_only, face_frame, face_photo, face_video

Check = Callable[[dict], None]


@dataclass
class HostileCase:
    """One input: ``make`` builds its bytes on first use of ``data`` (collection stays cheap)."""

    name: str
    what: str  # one line for docs/reliability.md
    make: Callable[[], bytes] = field(repr=False)
    status: int
    filename: str = "upload"
    content_type: str = "application/octet-stream"
    params: dict[str, str] = field(default_factory=dict)
    check: Check | None = field(default=None, compare=False)

    @functools.cached_property
    def data(self) -> bytes:
        return self.make()


# -- encoders --------------------------------------------------------------------------------


def encode_video(
    fmt: str,
    codec: str,
    frames: Iterable[np.ndarray],
    fps: int,
    *,
    pix_fmt: str = "yuv420p",
    seekable: bool = True,
) -> bytes:
    """Encode RGB frames (all the same size) with PyAV, x264 at its fastest preset."""
    options = {"preset": "ultrafast"} if codec == "libx264" else None
    return facevideo.encode_video(
        frames, fps, fmt=fmt, codec=codec, options=options, pix_fmt=pix_fmt, seekable=seekable
    )


def resolution_change_video() -> bytes:
    """MJPEG in Matroska whose frames switch from 320x240 to 160x120 halfway."""
    photo = face_photo()
    sink = io.BytesIO()
    fps = 10
    with av.open(sink, "w", format="matroska") as out:
        stream = out.add_stream("mjpeg", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuvj420p"
        small = av.CodecContext.create("mjpeg", "w")
        small.width, small.height, small.pix_fmt = 160, 120, "yuvj420p"
        small.time_base = Fraction(1, fps)
        for i in range(20):
            size = (320, 240) if i < 10 else (160, 120)
            frame = av.VideoFrame.from_ndarray(face_frame(photo, i, *size), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            if i < 10:
                packets = list(stream.encode(frame))
            else:
                packets = list(small.encode(frame))
                for packet in packets:
                    packet.stream = stream
                    packet.pts = packet.dts = i
                    packet.time_base = Fraction(1, fps)
            for packet in packets:
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return sink.getvalue()


def image_bytes(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def face_rgb(width: int = 320, height: int = 240) -> np.ndarray:
    return face_frame(face_photo(), 0, width, height)


# -- header surgery --------------------------------------------------------------------------


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming ``width`` x ``height`` 8-bit grey pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real 16x16 JPEG whose SOF0 header claims ``width`` x ``height``."""
    data = bytearray(image_bytes(Image.new("L", (16, 16), 128), "JPEG"))
    sof = data.index(b"\xff\xc0")  # marker, length(2), precision(1), height(2), width(2)
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def avi_rawvideo(frames: int = 10, side: int = 32) -> bytes:
    rgb = [np.full((side, side, 3), 40 + 10 * i, np.uint8) for i in range(frames)]
    return encode_video("avi", "rawvideo", rgb, fps=10, pix_fmt="bgr24")


def avi_declaring_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the AVI main header and the stream's BITMAPINFOHEADER frame size."""
    out = bytearray(data)
    avih = out.index(b"avih") + 8  # usec, maxbytes, padding, flags, frames, init, streams,
    out[avih + 32 : avih + 40] = struct.pack("<II", width, height)  # bufsize, width, height
    strf = out.index(b"strf") + 8  # biSize, biWidth, biHeight
    out[strf + 4 : strf + 12] = struct.pack("<ii", width, height)
    return bytes(out)


def avi_declaring_frames(data: bytes, count: int) -> bytes:
    """Rewrite the AVI's total frame count and the stream length."""
    out = bytearray(data)
    avih = out.index(b"avih") + 8
    out[avih + 16 : avih + 20] = struct.pack("<I", count)
    strh = out.index(b"strh") + 8  # type, handler, flags, prio/lang, init, scale, rate, start,
    out[strh + 32 : strh + 36] = struct.pack("<I", count)  # length
    return bytes(out)


def mp4_declaring_duration(data: bytes, duration: int) -> bytes:
    """Rewrite the (version 0) mvhd, tkhd and mdhd durations of an MP4."""
    out = bytearray(data)
    for box, offset in ((b"mvhd", 20), (b"tkhd", 24), (b"mdhd", 20)):
        at = out.index(box)
        assert out[at + 4] == 0, f"{box!r} is not version 0"
        out[at + offset : at + offset + 4] = struct.pack(">I", duration)
    return bytes(out)


def exif_rotated_jpeg() -> bytes:
    """A portrait face stored sideways, with EXIF Orientation 6 (rotate 90° clockwise)."""
    upright = face_rgb(240, 320)  # portrait: 240 wide, 320 high
    stored = np.rot90(upright, k=1)  # what the camera wrote: 320 wide, 240 high
    exif = Image.Exif()
    exif[0x0112] = 6
    return image_bytes(Image.fromarray(np.ascontiguousarray(stored)), "JPEG", exif=exif)


def animated_gif() -> bytes:
    frames = [Image.fromarray(face_rgb(160, 120)).convert("P") for _ in range(3)]
    return image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def animated_webp() -> bytes:
    first = Image.fromarray(face_rgb())
    black = Image.new("RGB", first.size)
    return image_bytes(first, "WEBP", save_all=True, append_images=[black], duration=100)


def gif_zip_polyglot() -> bytes:
    """A GIFAR-style polyglot: a GIF that is also a ZIP (archive appended)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("payload.html", "<script>alert(1)</script>")
    return image_bytes(Image.new("P", (8, 8)), "GIF") + archive.getvalue()


# -- body checks -----------------------------------------------------------------------------


def is_image_check(width: int, height: int, face: bool | None = None) -> Check:
    def check(body: dict) -> None:
        media = body["media"]
        assert (media["kind"], media["width"], media["height"]) == ("image", width, height)
        assert media["frames_sampled"] == len(body["frames"]) == 1
        if face is not None:
            assert (body["frames"][0]["face"] is not None) == face, body["frames"][0]

    return check


def is_video_check(frames: int | None = None, min_frames: int = 1) -> Check:
    def check(body: dict) -> None:
        assert body["media"]["kind"] == "video"
        sampled = body["media"]["frames_sampled"]
        assert sampled == len(body["frames"]) and sampled >= min_frames
        if frames is not None:
            assert sampled == frames, sampled

    return check


def changes_resolution(body: dict) -> None:
    is_video_check(frames=20)(body)
    assert (body["media"]["width"], body["media"]["height"]) == (320, 240)
    assert [f["index"] for f in body["frames"]] == list(range(20))


# -- the corpus ------------------------------------------------------------------------------


@functools.cache
def face_jpeg() -> bytes:
    return image_bytes(Image.fromarray(face_rgb()), "JPEG", quality=85)


@functools.cache
def face_png() -> bytes:
    return image_bytes(Image.fromarray(face_rgb()), "PNG")


@functools.cache
def face_mp4() -> bytes:
    """2 s at 10 fps, 160 x 120; PyAV writes the moov index last."""
    return face_video(seconds=2.0, fps=10, width=160, height=120)


@functools.cache
def face_mkv() -> bytes:
    return face_video(seconds=4.0, fps=10, width=160, height=120, fmt="matroska")


@functools.cache
def raw_avi() -> bytes:
    return avi_rawvideo()


def long_tiny_frames() -> list[np.ndarray]:
    """700 frames of 16 x 16: 700 s at 1 fps (the default limit is 600 s)."""
    return [np.full((16, 16, 3), (i % 2) * 128, np.uint8) for i in range(700)]


def grey16_face_png() -> bytes:
    grey16 = (face_rgb().mean(axis=2) * 257).astype(np.uint16)
    return image_bytes(Image.fromarray(grey16), "PNG")


def cut(make: Callable[[], bytes], num: int, den: int) -> Callable[[], bytes]:
    return lambda: make()[: len(make()) * num // den]


CORPUS: list[HostileCase] = [
    HostileCase("zero-bytes", "empty upload", lambda: b"", 415),
    HostileCase(
        "random-bytes",
        "64 KiB of random bytes",
        lambda: np.random.default_rng(7).bytes(65536),
        415,
    ),
    HostileCase(
        "jpeg-signature-then-noise",
        "JPEG magic + 8 KiB noise",
        lambda: b"\xff\xd8\xff" + np.random.default_rng(8).bytes(8192),
        422,
    ),
    HostileCase("truncated-jpeg", "face JPEG cut at 1/3", cut(face_jpeg, 1, 3), 422),
    HostileCase("truncated-png", "face PNG cut at 1/2", cut(face_png, 1, 2), 422),
    HostileCase(
        "truncated-mp4", "2 s MP4 (index written last) cut at 1/2", cut(face_mp4, 1, 2), 422
    ),
    HostileCase(
        "truncated-mkv",
        "4 s Matroska cut at 3/4: the frames before the cut",
        cut(face_mkv, 3, 4),
        200,
        check=is_video_check(min_frames=1),
    ),
    HostileCase(
        "png-50000x50000",
        "PNG header claiming 50 000 x 50 000",
        lambda: png_claiming(50_000, 50_000),
        413,
    ),
    HostileCase(
        "jpeg-50000x50000",
        "JPEG SOF claiming 50 000 x 50 000",
        lambda: jpeg_claiming(50_000, 50_000),
        413,
    ),
    HostileCase(
        "avi-declares-8000x6000",
        "AVI header declaring 8000 x 6000 (48 Mpx) over 32 x 32 raw frames",
        lambda: avi_declaring_size(raw_avi(), 8000, 6000),
        413,
    ),
    HostileCase(
        "avi-declares-50000x50000",
        "AVI header declaring 50 000 x 50 000 (ffmpeg refuses the size)",
        lambda: avi_declaring_size(raw_avi(), 50_000, 50_000),
        422,
    ),
    HostileCase(
        "avi-declares-2^31-frames",
        "AVI declaring 2^31-1 frames at 10 fps (6.8 years)",
        lambda: avi_declaring_frames(raw_avi(), 2**31 - 1),
        413,
    ),
    HostileCase(
        "mp4-declares-max-duration",
        "MP4 durations set to 0xFFFFFFFF (ffmpeg: unknown); 2 s of real frames",
        lambda: mp4_declaring_duration(face_mp4(), 0xFFFFFFFF),
        200,
        check=is_video_check(frames=4),
    ),
    HostileCase(
        "long-tiny-video",
        "16 x 16 H.264 MP4, 1 fps, 700 s (duration in the header)",
        lambda: encode_video("mp4", "libx264", long_tiny_frames(), fps=1),
        413,
    ),
    HostileCase(
        "long-tiny-video-no-duration",
        "16 x 16 VP8 WebM, 1 fps, 700 s, streamed (no duration in the header)",
        lambda: encode_video("webm", "libvpx", long_tiny_frames(), fps=1, seekable=False),
        413,
    ),
    HostileCase(
        "jpeg-named-mp4",
        "face JPEG sent as clip.mp4, video/mp4",
        face_jpeg,
        200,
        filename="clip.mp4",
        content_type="video/mp4",
        check=is_image_check(320, 240, face=True),
    ),
    HostileCase(
        "mp4-named-jpeg",
        "2 s face MP4 sent as photo.jpg, image/jpeg",
        face_mp4,
        200,
        filename="photo.jpg",
        content_type="image/jpeg",
        check=is_video_check(frames=4),
    ),
    HostileCase(
        "jpeg-mp4-polyglot",
        "face JPEG with a whole MP4 appended: the leading signature decides",
        lambda: face_jpeg() + face_mp4(),
        200,
        check=is_image_check(320, 240, face=True),
    ),
    HostileCase("gif-zip-polyglot", "GIF that is also a ZIP (GIFAR)", gif_zip_polyglot, 415),
    HostileCase("animated-gif", "3-frame animated GIF of the face", animated_gif, 415),
    HostileCase(
        "animated-webp",
        "2-frame animated WebP: the first frame (the face) is used",
        animated_webp,
        200,
        check=is_image_check(320, 240, face=True),
    ),
    HostileCase(
        "exif-rotated-jpeg",
        "face stored sideways, EXIF Orientation 6: upright 240 x 320 after rotation",
        exif_rotated_jpeg,
        200,
        check=is_image_check(240, 320, face=True),
    ),
    HostileCase(
        "png-16-bit",
        "16-bit grey face PNG",
        grey16_face_png,
        200,
        check=is_image_check(320, 240, face=True),
    ),
    HostileCase(
        "png-16-bit-39.7mpx",
        "16-bit grey PNG, 6300 x 6300 zeros: 77 KB, just under the 40 Mpx limit",
        lambda: image_bytes(Image.fromarray(np.zeros((6300, 6300), np.uint16)), "PNG"),
        200,
        check=is_image_check(6300, 6300, face=False),
    ),
    HostileCase(
        "png-rgba-39.7mpx",
        "RGBA PNG, 6300 x 6300 transparent: 154 KB, just under the 40 Mpx limit",
        lambda: image_bytes(Image.new("RGBA", (6300, 6300)), "PNG"),
        200,
        check=is_image_check(6300, 6300, face=False),
    ),
    HostileCase(
        "cmyk-jpeg",
        "CMYK face JPEG",
        lambda: image_bytes(Image.fromarray(face_rgb()).convert("CMYK"), "JPEG"),
        200,
        check=is_image_check(320, 240, face=True),
    ),
    HostileCase(
        "audio-only-mp4", "MP4 with one AAC stream, no video", lambda: audio_only("mp4"), 422
    ),
    HostileCase(
        "audio-only-mkv",
        "Matroska with one AAC stream, no video",
        lambda: audio_only("matroska"),
        422,
    ),
    HostileCase(
        "resolution-change",
        "MJPEG Matroska switching 320 x 240 -> 160 x 120 at frame 10 (every frame sampled)",
        resolution_change_video,
        200,
        params={"sample_interval": "0"},
        check=changes_resolution,
    ),
]
