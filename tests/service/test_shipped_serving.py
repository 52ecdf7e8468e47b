"""The shipped demo models (v2), served by the real app, on faces they never trained on: CK+
faces of held-out subjects and FER+ valid faces."""

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
FERPLUS_VALID = REPO / ".." / "shared" / "data" / "ferplus" / "valid"
# The masked proxy task: upper-face crops of anger and sadness stand in for the two masks.
MASKED_PROXY = {"anger": "happy_but_angry", "sadness": "happy_but_sad"}
# v2: the upper face of a genuine smile carries no masked expression.
MASKED_SMILES = {"happiness": "none"}
# Floors a little under what the shipped v2 models measure (docs/model-card.md): CK+ held-out
# subjects 0.71 (argmax over the 6 classes), FER+ valid neutral faces 0.87 neutral; masked:
# 'none' on every held-out genuine smile, the two masked classes told apart 0.62 of the time.
MICRO_FLOOR = 0.65
NEUTRAL_FLOOR = 0.75
SMILE_NONE_FLOOR = 0.9
MASKED_PAIR_FLOOR = 0.55


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


def ferplus_valid(folder: str, n: int) -> list[tuple[Path, str]]:
    if not FERPLUS_VALID.is_dir():
        pytest.skip(f"FER+ data not found at {FERPLUS_VALID} (only beside ../shared)")
    return [(p, folder) for p in sorted((FERPLUS_VALID / folder).glob("*.png"))[:n]]


def frames(client: TestClient, images: list[tuple[Path, str]], **params: str) -> list[dict]:
    out = []
    for image, _ in images:
        r = client.post(
            "/v1/predict",
            files={"file": (image.name, image.read_bytes())},
            params={"detect_faces": "false", **params},
        )
        assert r.status_code == 200, r.text
        out.append(r.json()["frames"][0])
    return out


def accuracy(client: TestClient, images: list[tuple[Path, str]], **params: str) -> float:
    answers = frames(client, images, **params)
    return sum(f["label"] == label for f, (_, label) in zip(answers, images, strict=True)) / len(
        images
    )


def test_shipped_models_are_catalogued_and_ready(shipped_client) -> None:
    names = {m["name"]: m for m in shipped_client.get("/v1/models").json()["models"]}
    assert {"micro-cnn", "masked-cnn"} <= set(names)
    assert names["masked-cnn"]["face_region"] == "upper"
    assert shipped_client.get("/readyz").status_code == 200


def test_micro_cnn_labels_held_out_ckplus_faces(shipped_client) -> None:
    images = held_out_images("micro-cnn")
    assert len(images) >= 30
    assert accuracy(shipped_client, images) >= MICRO_FLOOR


def test_micro_cnn_says_neutral_on_neutral_ferplus_faces(shipped_client) -> None:
    images = ferplus_valid("neutral", 80)
    assert accuracy(shipped_client, images) >= NEUTRAL_FLOOR


def test_masked_cnn_tells_the_two_masks_apart_on_held_out_upper_faces(shipped_client) -> None:
    images = held_out_images("masked-cnn", MASKED_PROXY)
    assert len(images) >= 10
    answers = frames(shipped_client, images, task="masked")
    pair = list(MASKED_PROXY.values())
    hits = sum(
        max(pair, key=lambda c: f["probabilities"][c]) == label
        for f, (_, label) in zip(answers, images, strict=True)
    )
    assert hits / len(images) >= MASKED_PAIR_FLOOR


def test_masked_cnn_rarely_flags_genuine_smiles(shipped_client) -> None:
    images = held_out_images("masked-cnn", MASKED_SMILES)
    assert len(images) >= 10
    assert accuracy(shipped_client, images, task="masked") >= SMILE_NONE_FLOOR
