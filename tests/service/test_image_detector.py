"""Still images are searched as a video's first frame (BlazeFace, Haar where it finds nothing):
a tilted face Haar cannot see is found; ``MMED_IMAGE_DETECTOR=haar`` keeps Haar alone."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from service.faces import FaceDetector
from service.faces.still import image_search


def png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def tilted(face_photo: np.ndarray) -> bytes:
    """The astronaut's head and shoulders rotated by 25 degrees on a 640x480 canvas: frontal
    Haar finds no face in it (checked: 35-50 degrees give Haar a low-score box elsewhere)."""
    head = cv2.resize(face_photo[0:300, 80:380], (300, 300), interpolation=cv2.INTER_AREA)
    rot = cv2.getRotationMatrix2D((150, 150), 25, 1.0)
    head = cv2.warpAffine(head, rot, (300, 300), borderMode=cv2.BORDER_REPLICATE)
    frame = np.full((480, 640, 3), 110, np.uint8)
    frame[90:390, 170:470] = head
    return png(frame)


def face_of(client, payload: bytes) -> dict | None:
    r = client.post("/v1/predict", files={"file": ("x.png", payload)})
    assert r.status_code == 200, r.text
    return r.json()["frames"][0]["face"]


def test_a_tilted_face_is_found_by_default_not_by_haar_alone(make_client, tilted) -> None:
    face = face_of(make_client(), tilted)
    assert face is not None, "BlazeFace should find the tilted face"
    cx, cy = face["x"] + face["w"] / 2, face["y"] + face["h"] / 2
    assert 170 <= cx <= 470 and 90 <= cy <= 390 and 60 <= face["w"] <= 300
    assert face_of(make_client(image_detector="haar"), tilted) is None


def test_an_upright_face_gets_about_haars_box(make_client, face_jpeg) -> None:
    """BlazeFace's box is converted to Haar's framing (what the models were trained on)."""
    a, b = face_of(make_client(), face_jpeg), face_of(make_client(image_detector="haar"), face_jpeg)
    assert a is not None and b is not None
    ax0, ay0, ax1, ay1 = a["x"], a["y"], a["x"] + a["w"], a["y"] + a["h"]
    bx0, by0, bx1, by1 = b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]
    inter = max(0, min(ax1, bx1) - max(ax0, bx0)) * max(0, min(ay1, by1) - max(ay0, by0))
    union = a["w"] * a["h"] + b["w"] * b["h"] - inter
    assert inter / union >= 0.7


def test_a_photo_without_a_face_stays_faceless(make_client, no_face_png) -> None:
    assert face_of(make_client(), no_face_png) is None


def test_unknown_image_detector_is_refused() -> None:
    with pytest.raises(ValueError, match="image_detector"):
        image_search("mtcnn", FaceDetector())


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (1, 4000), (4000, 1), (23, 23), (30, 3000)])
def test_degenerate_images_get_no_face_and_no_error(make_client, shape) -> None:
    """BlazeFace letterboxes any shape; Haar's searches refuse regions under its 24 px window."""
    noise = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    assert face_of(make_client(), png(noise)) is None
