"""One model-input function: training's ``prepare`` and serving's ``crop_face`` give the same
crop bytes (model_artifact.face_input), on a real CK+ face where ../shared is present."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from model_artifact import face_input
from service.faces import FaceBox, crop_face
from training.data import prepare, read_grey

CKPLUS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ckplus5"


def _faces() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    faces = [rng.integers(0, 256, (61, 53), dtype=np.uint8)]
    if CKPLUS.is_dir():
        faces += [read_grey(p) for p in sorted(CKPLUS.rglob("*.png"))[:40:8]]
    return faces


@pytest.mark.parametrize("region", ["full", "upper"])
@pytest.mark.parametrize("size", [48, 64])
def test_training_and_serving_make_the_same_crop_of_a_face_image(region, size) -> None:
    for face in _faces():
        trained_on = prepare(face, size, region)
        served = crop_face(face, None, region, (size, size))
        assert trained_on.dtype == served.dtype == np.uint8
        assert trained_on.tobytes() == served.tobytes()


@pytest.mark.parametrize("region", ["full", "upper"])
def test_a_detected_box_is_cut_then_prepared_like_a_training_image(region) -> None:
    # A face pasted into a frame: the serving crop of its box is the training crop of the face.
    for face in _faces():
        frame = np.full((300, 400), 17, np.uint8)
        big = cv2.resize(face, (face.shape[1] * 3, face.shape[0] * 3))
        frame[40 : 40 + big.shape[0], 90 : 90 + big.shape[1]] = big
        box = FaceBox(90, 40, big.shape[1], big.shape[0], 0.9)
        assert (
            crop_face(frame, box, region, (48, 48)).tobytes() == prepare(big, 48, region).tobytes()
        )


def test_a_box_over_the_edge_is_filled_by_edge_replication() -> None:
    frame = np.arange(100, dtype=np.uint8).reshape(10, 10)
    crop = face_input(frame, (-2, 0, 4, 4), "full", (4, 4))
    assert crop[:, 0].tolist() == crop[:, 1].tolist() == crop[:, 2].tolist()
    with pytest.raises(ValueError, match="outside"):
        face_input(frame, (20, 20, 4, 4), "full", (4, 4))
    with pytest.raises(ValueError, match="grey"):
        face_input(frame.astype(np.float32), None, "full", (4, 4))
