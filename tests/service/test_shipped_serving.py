"""The shipped demo models, served by the real app, on CK+ faces of held-out subjects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from model_artifact import ModelRepository
from service.app import create_app
from service.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "model_repository"
CKPLUS = REPO / ".." / "shared" / "data" / "ckplus5"
# The masked proxy task: upper-face crops of anger and sadness stand in for the two masks.
MASKED_PROXY = {"anger": "happy_but_angry", "sadness": "happy_but_sad"}


@pytest.fixture(scope="module")
def shipped_client():
    with TestClient(create_app(Settings(model_repository=SHIPPED))) as client:
        yield client


def held_out_images(model: str, class_map: dict[str, str] | None = None) -> list[tuple[Path, str]]:
    if not CKPLUS.is_dir():
        pytest.skip(f"CK+ data not found at {CKPLUS} (only beside a checkout with ../shared)")
    card = ModelRepository(SHIPPED).load(model).card
    held_out = set(card.model_extra["evaluation"]["held_out_subject_ids"])
    assert held_out, "the card must name its held-out subjects"
    found = []
    for folder in sorted(CKPLUS.iterdir()):
        label = (class_map or {}).get(folder.name, folder.name if class_map is None else None)
        if label is None:
            continue
        for image in sorted(folder.glob("*.png")):
            m = re.match(r"^(S\d+)_", image.name)
            if m and m.group(1) in held_out:
                found.append((image, label))
    return found


def accuracy(client: TestClient, images: list[tuple[Path, str]], **params: str) -> float:
    hits = 0
    for image, label in images:
        r = client.post(
            "/v1/predict",
            files={"file": (image.name, image.read_bytes())},
            params={"detect_faces": "false", **params},
        )
        assert r.status_code == 200, r.text
        hits += r.json()["frames"][0]["label"] == label
    return hits / len(images)


def test_shipped_models_are_catalogued_and_ready(shipped_client) -> None:
    names = {m["name"]: m for m in shipped_client.get("/v1/models").json()["models"]}
    assert {"micro-cnn", "masked-cnn"} <= set(names)
    assert names["masked-cnn"]["face_region"] == "upper"
    assert shipped_client.get("/readyz").status_code == 200


def test_micro_cnn_labels_held_out_ckplus_faces(shipped_client) -> None:
    images = held_out_images("micro-cnn")
    assert len(images) >= 30
    assert accuracy(shipped_client, images) >= 0.8


def test_masked_cnn_labels_held_out_upper_faces(shipped_client) -> None:
    images = held_out_images("masked-cnn", MASKED_PROXY)
    assert len(images) >= 10
    assert accuracy(shipped_client, images, task="masked") >= 0.7
