"""Videos with a display matrix (phone clips) are turned upright, as players show them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from service.faces import FaceBox, FaceDetector, iou
from service.media import MediaLimits, VideoSource, open_media
from service.orientation import UPRIGHT, Orientation, from_matrix
from tools.facevideo import encode_video

VIDEO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "video"

# An asymmetric picture: every turn and mirror of it is a different array.
PICTURE = np.zeros((48, 64), np.uint8)
PICTURE[:16, :16] = 255
PICTURE[:8, 40:] = 160
PICTURE[36:, :8] = 90

# The eight EXIF orientations as PyAV writes them (its documented meaning: turn counter-
# clockwise by `degrees`, then mirror), 270 also as -90.
ORIENTATIONS = [
    (d, h, v) for d in (0, 90, 180, 270, -90) for h in (False, True) for v in (False, True)
]


def _shown(picture: np.ndarray, degrees: int, hflip: bool, vflip: bool) -> np.ndarray:
    """What a player shows for ``picture`` stored under that display matrix (PyAV's docs)."""
    out = np.rot90(picture, degrees // 90)
    if hflip:
        out = out[:, ::-1]
    if vflip:
        out = out[::-1]
    return out


def _clip(frames: list[np.ndarray], degrees: int, hflip=False, vflip=False) -> bytes:
    """A lossless H.264 MP4 of grey ``frames`` under that display matrix."""
    rgb = (np.repeat(f[..., None], 3, axis=2) if f.ndim == 2 else f for f in frames)
    return encode_video(rgb, 10, options={"qp": "0"}, display=(degrees, hflip, vflip))


def _decoded(data: bytes) -> tuple[VideoSource, list[np.ndarray]]:
    media = open_media(io.BytesIO(data), MediaLimits())
    assert isinstance(media, VideoSource)
    with media:
        return media, [f.image for f in media.frames(0.0)]


@pytest.mark.parametrize(("degrees", "hflip", "vflip"), ORIENTATIONS)
def test_every_exif_orientation_is_shown_as_a_player_shows_it(degrees, hflip, vflip) -> None:
    media, frames = _decoded(_clip([PICTURE] * 2, degrees, hflip, vflip))
    expected = _shown(PICTURE, degrees, hflip, vflip)
    assert (media.info.width, media.info.height) == (expected.shape[1], expected.shape[0])
    for frame in frames:
        assert frame.flags.c_contiguous
        # Lossless H.264 of a grey picture: only the limited-range round trip differs.
        np.testing.assert_array_equal(frame > 128, expected > 128)


@pytest.mark.parametrize("fmt", ["mp4", "mov", "matroska"])
def test_clip_without_a_matrix_is_untouched(fmt) -> None:
    rgb = np.repeat(PICTURE[..., None], 3, axis=2)
    _, frames = _decoded(encode_video([rgb], 10, fmt=fmt, options={"qp": "0"}))
    np.testing.assert_array_equal(frames[0] > 128, PICTURE > 128)


def test_matrix_rules() -> None:
    one = 1 << 16
    w = 1 << 30
    assert from_matrix(np.array([one, 0, 0, 0, one, 0, 0, 0, w])) == UPRIGHT
    # av_display_rotation_set(m, 90): ffmpeg -i shows it turned a quarter clockwise.
    assert from_matrix(np.array([0, one, 0, -one, 0, 0, 0, 0, w])) == Orientation(3)
    assert from_matrix(np.array([-one, 0, 0, 0, one, 0, 0, 0, w])) == Orientation(0, mirror=True)
    # No scale (degenerate) or nonsense: left as stored rather than guessed.
    assert from_matrix(np.zeros(9)) == UPRIGHT
    # 30 degrees (no phone writes it) rounds to the nearest quarter turn: none.
    c, s = int(one * np.cos(np.pi / 6)), int(one * np.sin(np.pi / 6))
    assert from_matrix(np.array([c, -s, 0, s, c, 0, 0, 0, w])) == UPRIGHT
    assert Orientation(1).size(640, 360) == (360, 640)
    assert UPRIGHT.apply(PICTURE) is PICTURE


def test_phone_clip_of_a_face_is_found_where_the_upright_clip_has_it(astronaut_rgb) -> None:
    # A portrait phone clip: the sensor's landscape frames hold the face on its side, the
    # container says "turn a quarter clockwise". Upright, it is the astronaut's photo.
    upright = np.ascontiguousarray(astronaut_rgb[::2, ::2])  # 256x256: the face at the top
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # face on its side, as stored
    _, frames = _decoded(_clip([stored] * 3, -90))
    detector = FaceDetector()
    turned = detector.detect(frames[0])
    expected = detector.detect(np.ascontiguousarray(upright.mean(axis=2).astype(np.uint8)))
    assert expected is not None and turned is not None
    assert iou(turned, expected) >= 0.8
    assert detector.detect(np.ascontiguousarray(stored.mean(axis=2).astype(np.uint8))) is None


@pytest.mark.slow
@pytest.mark.skipif(not VIDEO.is_dir(), reason=f"recorded clips not present ({VIDEO})")
def test_recorded_clip_stored_sideways_gives_the_upright_frames() -> None:
    # single_face.mp4 re-encoded as a phone stores a portrait clip (frames turned, a matrix
    # turning them back): decoded, it is the original clip within the re-encoding's loss.
    with (VIDEO / "single_face.mp4").open("rb") as f, open_media(f, MediaLimits()) as m:
        original = [fr.image for fr in m.frames(0.0)]
    stored = [np.ascontiguousarray(np.rot90(im, 1)) for im in original]
    media, frames = _decoded(_clip(stored, -90))
    assert (media.info.width, media.info.height) == (640, 360)
    assert len(frames) == len(original)
    errors = [np.abs(a.astype(int) - b).mean() for a, b in zip(frames, original, strict=True)]
    assert max(errors) < 2.0


@pytest.mark.slow
@pytest.mark.skipif(not VIDEO.is_dir(), reason=f"recorded clips not present ({VIDEO})")
def test_phone_clip_gets_the_answers_of_the_upright_clip_through_the_api() -> None:
    # Unturned, the shipped model read WolfgangLanger's sideways face as sadness and never
    # happiness (0 of 472 frames, 283 upright); turned, every frame's answer is the same.
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings

    with (VIDEO / "single_face.mp4").open("rb") as f:
        data = f.read()
    with open_media(io.BytesIO(data), MediaLimits()) as m:
        stored = [np.ascontiguousarray(np.rot90(fr.image, 1)) for fr in m.frames(0.0)]
    phone = _clip(stored, -90)
    shipped = Path(__file__).resolve().parents[2] / "model_repository"
    with TestClient(create_app(Settings(model_repository=shipped))) as client:
        answers = []
        for clip in (data, phone):
            r = client.post(
                "/v1/predict", files={"file": ("clip.mp4", clip)}, params={"sample_interval": 0}
            )
            assert r.status_code == 200, r.text
            answers.append(r.json())
    upright, turned = answers
    assert (turned["media"]["width"], turned["media"]["height"]) == (640, 360)
    assert [f["label"] for f in turned["frames"]] == [f["label"] for f in upright["frames"]]
    # The same boxes, within what the grey -> YUV -> grey round trip (+-1 level) moves them.
    boxes = [
        (a["face"], b["face"]) for a, b in zip(upright["frames"], turned["frames"], strict=True)
    ]
    assert all((a is None) == (b is None) for a, b in boxes)
    overlaps = [iou(FaceBox(**_xywh(a)), FaceBox(**_xywh(b))) for a, b in boxes if a and b]
    assert min(overlaps) >= 0.8 and float(np.median(overlaps)) >= 0.9


def _xywh(face: dict) -> dict:
    return {k: face[k] for k in ("x", "y", "w", "h", "score")}
