"""Face detection on real faces (scikit-image's astronaut, CK+) and the model input crop."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from media_helpers import ASTRONAUT_FACE, CKPLUS, FACE_SIDE, face_position
from PIL import Image

from model_artifact.regions import UPPER_FRACTION
from service.faces import DEFAULT_MARGIN, FULL_SEARCH, FaceBox, FaceDetector, crop_face
from service.media import MediaLimits, open_media


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih / (aw * ah + bw * bh - iw * ih)


def _box(face: FaceBox) -> tuple[int, int, int, int]:
    return face.x, face.y, face.w, face.h


def _on_canvas(photo: np.ndarray, width: int, height: int) -> tuple[np.ndarray, float, int, int]:
    """The photo scaled to the frame height, centred on a grey canvas; (frame, scale, x0, y0)."""
    side = min(width, height)
    frame = np.full((height, width), 128, np.uint8)
    x0, y0 = (width - side) // 2, (height - side) // 2
    frame[y0 : y0 + side, x0 : x0 + side] = cv2.resize(
        photo, (side, side), interpolation=cv2.INTER_AREA
    )
    return frame, side / photo.shape[0], x0, y0


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


def test_astronaut_face_is_found(detector, astronaut_grey) -> None:
    face = detector.detect(astronaut_grey)
    assert face is not None
    assert _iou(_box(face), ASTRONAUT_FACE) > 0.5
    assert 0.5 < face.score <= 1.0


@pytest.mark.parametrize("size", [(640, 480), (1280, 720)])
def test_astronaut_face_in_larger_frames(detector, astronaut_grey, size) -> None:
    # At 640x480 a larger false positive (the background beside the face) also passes
    # min_neighbors; the score filter must leave the real face as the largest.
    frame, scale, x0, y0 = _on_canvas(astronaut_grey, *size)
    x, y, w, h = ASTRONAUT_FACE
    truth = (round(x * scale) + x0, round(y * scale) + y0, round(w * scale), round(h * scale))
    face = detector.detect(frame)
    assert face is not None and _iou(_box(face), truth) > 0.5
    assert len(detector.detect_all(frame)) >= 1


def test_downscaled_detection_maps_the_box_back(astronaut_grey) -> None:
    frame, *_ = _on_canvas(astronaut_grey, 1280, 720)
    full = FaceDetector(detect_width=None).detect(frame)
    small = FaceDetector(detect_width=640).detect(frame)
    assert full is not None and small is not None
    assert _iou(_box(full), _box(small)) > 0.8


@pytest.mark.parametrize("kind", ["blank", "noise", "gradient"])
def test_no_face(detector, kind) -> None:
    rng = np.random.default_rng(1)
    frame = {
        "blank": np.full((480, 640), 128, np.uint8),
        "noise": rng.integers(0, 256, (480, 640), dtype=np.uint8),
        "gradient": np.tile(np.linspace(0, 255, 640).astype(np.uint8), (480, 1)),
    }[kind]
    assert detector.detect(frame) is None


def test_tiny_frame_has_no_face(detector) -> None:
    assert detector.detect(np.full((16, 16), 90, np.uint8)) is None


def test_rejects_non_grey_input(detector, astronaut_grey) -> None:
    with pytest.raises(ValueError):
        detector.detect(np.dstack([astronaut_grey] * 3))
    with pytest.raises(ValueError):
        detector.detect(astronaut_grey.astype(np.float32))


def test_score_is_a_monotonic_probability() -> None:
    assert 0.0 < FULL_SEARCH(1, -5.0) < FULL_SEARCH(1, 5.0) < FULL_SEARCH(50, 5.0) < 1.0
    # The astronaut's face and the false positive beside it in a 640x480 frame.
    assert FULL_SEARCH(7, 1.32) < 0.1 and FULL_SEARCH(51, 4.86) > 0.9
    assert 0.0 <= FULL_SEARCH(10**6, 1e6) <= 1.0 and 0.0 <= FULL_SEARCH(0, -1e6) <= 1.0


def test_detect_prefers_confident_faces_then_falls_back_to_the_best(astronaut_grey) -> None:
    frame, *_ = _on_canvas(astronaut_grey, 640, 480)
    faces = FaceDetector().detect_all(frame)
    largest = max(faces, key=lambda f: f.w * f.h)
    chosen = FaceDetector().detect(frame)
    assert largest.score < 0.5 <= chosen.score and chosen.w < largest.w  # the premise
    # With no detection confident enough, the best-scoring one is returned, not None.
    assert FaceDetector(min_score=1.0).detect(frame) == max(faces, key=lambda f: f.score)
    # min_score=0 is plain "largest detection".
    assert FaceDetector(min_score=0.0).detect(frame) == largest


def test_detector_is_safe_across_threads(astronaut_grey) -> None:
    detector = FaceDetector()
    frames = [_on_canvas(astronaut_grey, w, h)[0] for w, h in [(512, 512), (640, 480)] * 4]
    expected = [detector.detect(f) for f in frames]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(detector.detect, frames)) == expected


def test_faces_in_decoded_video_frames(make_video) -> None:
    # End to end: a clip of the moving photo, sampled, decoded, the face found where it moved.
    detector = FaceDetector()
    scale = FACE_SIDE / 512
    with open_media(io.BytesIO(make_video("mp4", "libx264", n=30)), MediaLimits()) as media:
        for frame in media.frames(0.25):
            px, py = face_position(frame.index)
            x, y, w, h = ASTRONAUT_FACE
            truth = (
                px + round(x * scale),
                py + round(y * scale),
                round(w * scale),
                round(h * scale),
            )
            face = detector.detect(frame.image)
            assert face is not None and _iou(_box(face), truth) > 0.5, frame.index


def _ckplus_samples(n: int) -> list[np.ndarray]:
    if not CKPLUS.is_dir():
        pytest.skip(f"CK+ data not found at {CKPLUS} (shared data is not part of the repo)")
    files = sorted(CKPLUS.glob("*/*.png"))[::37][:n]
    return [np.asarray(Image.open(f).convert("L")) for f in files]


def test_haar_box_with_default_margin_frames_faces_like_ckplus(detector) -> None:
    # The default margin claim: a CK+ training crop shown in a frame is detected, and the box
    # grown by DEFAULT_MARGIN covers that crop again (each side within 6 % of its size).
    side, x0, y0 = 192, 200, 100
    for crop in _ckplus_samples(12):
        frame = np.full((480, 640), int(crop.mean()), np.uint8)
        frame[y0 : y0 + side, x0 : x0 + side] = cv2.resize(
            crop, (side, side), interpolation=cv2.INTER_CUBIC
        )
        face = detector.detect(frame)
        assert face is not None
        m = DEFAULT_MARGIN
        grown = (face.x - m * face.w, face.y - m * face.h, face.x + (1 + m) * face.w,
                 face.y + (1 + m) * face.h)  # fmt: skip
        assert np.abs(np.subtract(grown, (x0, y0, x0 + side, y0 + side))).max() < 0.06 * side
        assert crop_face(frame, face, "full", (48, 48)).shape == (48, 48)


@pytest.mark.parametrize("box", [None, FaceBox(100, 60, 120, 120, 0.9)])
@pytest.mark.parametrize(
    ("region", "size"), [("full", (48, 48)), ("upper", (48, 48)), ("upper", (26, 48))]
)
def test_crop_shapes_and_content(astronaut_grey, box, region, size) -> None:
    out = crop_face(astronaut_grey, box, region, size, margin=0.0)
    assert out.shape == size and out.dtype == np.uint8
    face = astronaut_grey if box is None else astronaut_grey[60:180, 100:220]
    if region == "upper":
        face = face[: round(face.shape[0] * UPPER_FRACTION)]
    expected = cv2.resize(face, size[::-1], interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(out, expected)


def test_margin_grows_the_box_inside_the_frame(astronaut_grey) -> None:
    box = FaceBox(100, 60, 100, 80, 0.9)
    out = crop_face(astronaut_grey, box, "full", (120, 150), margin=0.25)
    np.testing.assert_array_equal(out, astronaut_grey[40:160, 75:225])


@pytest.mark.parametrize(
    "box",
    [FaceBox(0, 0, 40, 40, 0.9), FaceBox(480, 490, 32, 22, 0.9), FaceBox(-10, 200, 30, 30, 0.9)],
    ids=["top-left", "bottom-right", "partly-outside"],
)
def test_margin_at_the_border_pads_by_edge_replication(astronaut_grey, box) -> None:
    margin = 0.5
    x0, y0 = round(box.x - margin * box.w), round(box.y - margin * box.h)
    x1, y1 = round(box.x + box.w + margin * box.w), round(box.y + box.h + margin * box.h)
    out = crop_face(astronaut_grey, box, "full", (y1 - y0, x1 - x0), margin=margin)
    pad = 200
    padded = np.pad(astronaut_grey, pad, mode="edge")
    expected = padded[y0 + pad : y1 + pad, x0 + pad : x1 + pad]
    assert out.shape == expected.shape  # the grown box keeps its aspect
    np.testing.assert_array_equal(out, expected)


def test_crop_rejects_bad_arguments(astronaut_grey) -> None:
    with pytest.raises(ValueError):
        crop_face(astronaut_grey, None, "lower", (48, 48))
    with pytest.raises(ValueError):
        crop_face(astronaut_grey, None, "full", (0, 48))
    with pytest.raises(ValueError):
        crop_face(astronaut_grey, FaceBox(600, 600, 10, 10, 0.5), "full", (48, 48))
