"""POST /v1/predict through the real app and embedded backend, with real face media."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tools.facevideo import face_video

MICRO = ["anger", "contempt", "disgust", "happiness", "sadness"]


def post(client, payload: bytes, name: str = "upload.bin", **params):
    return client.post("/v1/predict", files={"file": (name, payload)}, params=params)


@pytest.fixture(scope="module")
def clip() -> bytes:
    """2 s, 30 fps, 640x480 clip of a real face photograph."""
    return face_video(seconds=2.0, fps=30, width=640, height=480)


def check_frame(frame: dict, classes: list[str]) -> None:
    assert frame["face"] is not None and frame["label"] in classes
    probs = frame["probabilities"]
    assert list(probs) == classes
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-4)
    assert frame["confidence"] == pytest.approx(max(probs.values()))
    assert frame["label"] == max(probs, key=probs.get)


def test_image_face_is_found_and_labelled(client, face_jpeg) -> None:
    r = post(client, face_jpeg, "photo.jpg")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["media"] == {
        "kind": "image",
        "width": 512,
        "height": 512,
        "fps": None,
        "duration_s": None,
        "frames_sampled": 1,
    }
    assert body["model"] == {
        "name": "micro-cnn",
        "version": 1,
        "task": "micro",
        "classes": MICRO,
        "rest_class": None,  # a v1-style card (the tiny test repository)
        "gate": None,  # micro models are not gated
    }
    (frame,) = body["frames"]
    check_frame(frame, MICRO)
    face = frame["face"]
    # The astronaut's face spans roughly x 182-270, y 75-175 in the 512x512 photo.
    assert 150 < face["x"] + face["w"] / 2 < 300 and 60 < face["y"] + face["h"] / 2 < 200
    assert 0 < face["score"] <= 1
    assert body["summary"]["frames_with_face"] == 1
    assert body["summary"]["dominant_label"] == frame["label"]
    assert body["summary"]["label_counts"] == {frame["label"]: 1}
    assert set(body["timing_ms"]) == {"decode", "detect", "infer", "total"}
    assert r.headers["x-request-id"]


def test_video_is_sampled_every_half_second(client, clip) -> None:
    r = post(client, clip, "clip.mp4")
    assert r.status_code == 200, r.text
    body = r.json()
    media = body["media"]
    assert media["kind"] == "video" and (media["width"], media["height"]) == (640, 480)
    assert media["fps"] == pytest.approx(30.0)
    assert media["duration_s"] == pytest.approx(2.0, abs=0.05)
    assert media["frames_sampled"] == 4
    assert [f["timestamp_s"] for f in body["frames"]] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert [f["index"] for f in body["frames"]] == [0, 15, 30, 45]
    for frame in body["frames"]:
        check_frame(frame, MICRO)
    summary = body["summary"]
    assert summary["frames_with_face"] == 4
    assert sum(summary["label_counts"].values()) == 4
    mean = np.mean([[f["probabilities"][c] for c in MICRO] for f in body["frames"]], axis=0)
    assert list(summary["mean_probabilities"].values()) == pytest.approx(mean.tolist(), abs=1e-6)


def test_every_frame_and_max_frames(client, clip) -> None:
    dense = post(client, clip, sample_interval=0).json()
    assert dense["media"]["frames_sampled"] == 60
    assert [f["index"] for f in dense["frames"]] == list(range(60))
    capped = post(client, clip, sample_interval=0, max_frames=7).json()
    assert capped["media"]["frames_sampled"] == 7


def test_masked_task_uses_the_upper_face_model(client, clip) -> None:
    body = post(client, clip, task="masked").json()
    assert body["model"]["name"] == "masked-cnn"
    assert body["model"]["classes"] == ["happy_but_angry", "happy_but_sad"]
    for frame in body["frames"]:
        check_frame(frame, ["happy_but_angry", "happy_but_sad"])


def test_model_alone_selects_its_task(client, face_jpeg) -> None:
    body = post(client, face_jpeg, model="masked-cnn", version=1).json()
    assert body["model"]["task"] == "masked"


def test_frame_without_a_face_is_never_guessed(client, no_face_png) -> None:
    body = post(client, no_face_png, "cup.png").json()
    (frame,) = body["frames"]
    assert frame == {
        "index": 0,
        "timestamp_s": 0.0,
        "face": None,
        "label": None,
        "confidence": None,
        "probabilities": None,
    }
    assert body["summary"] == {
        "frames_with_face": 0,
        "label_counts": {},
        "dominant_label": None,
        "mean_probabilities": None,
    }


def test_detect_faces_false_uses_the_whole_image(client, no_face_png) -> None:
    body = post(client, no_face_png, detect_faces="false").json()
    (frame,) = body["frames"]
    assert frame["face"] == {"x": 0, "y": 0, "w": 600, "h": 400, "score": 1.0}
    check_frame(frame, MICRO)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "WEBP"])
def test_other_image_formats(client, face_photo, fmt) -> None:
    buf = io.BytesIO()
    Image.fromarray(face_photo).save(buf, format=fmt)
    r = post(client, buf.getvalue(), "no-extension")
    assert r.status_code == 200, r.text
    assert r.json()["frames"][0]["face"] is not None
