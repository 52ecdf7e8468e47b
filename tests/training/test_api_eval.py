"""training.api_eval: held-out faces through the real gateway. Sent as crops
(``detect_faces=false``) the answers are the model's own probabilities, so the card's held-out
figures are what a user gets for the same pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from model_artifact import ModelRepository
from model_artifact.quantized import read_int8
from service.app import create_app
from service.settings import Settings
from training import api_eval
from training.gate_eval import _predictor

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "model_repository"
DATA = REPO / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def micro():
    return ModelRepository(SHIPPED).load("micro-cnn")


@pytest.fixture(scope="module")
def faces(tmp_path_factory, micro) -> Path:
    """A data folder shaped like ../shared/data: 48x48 crops of the astronaut's face, jittered,
    filed under one held-out subject of the shipped card (CK+) and under FER+ valid."""
    from skimage import data

    grey = np.asarray(Image.fromarray(data.astronaut()).convert("L"))
    subject = micro.card.model_extra["evaluation"]["held_out_subject_ids"][0]
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    for i, cls in enumerate(micro.card.classes):
        for j in range(2):
            y, x = 70 + int(rng.integers(-8, 9)), 175 + int(rng.integers(-8, 9))
            face = Image.fromarray(grey[y : y + 110, x : x + 100]).resize((48, 48))
            ck = root / "ckplus5" / cls
            fer = root / "ferplus" / "valid" / cls
            for folder, name in ((ck, f"{subject}_{i}{j}.png"), (fer, f"fer{i}{j}.png")):
                folder.mkdir(parents=True, exist_ok=True)
                face.save(folder / name)
    return root


def test_crops_through_the_api_are_the_models_probabilities(micro, faces) -> None:
    sets = api_eval.held_out_sets(faces, list(micro.card.classes), micro.card.model_extra)
    assert {k: len(v) for k, v in sets.items()} == {"ckplus5": 12, "ferplus": 12}
    items = sets["ferplus"]
    direct = _predictor(micro)([np.asarray(Image.open(p)) for p, _ in items])
    # the float runtime: TF Serving's answers (the int8 default is held to its companion's
    # recorded agreement in tests/service/test_runtimes.py)
    settings = Settings(model_repository=SHIPPED, embedded_runtime="tflite")
    with TestClient(create_app(settings)) as client:
        got = list(api_eval.answers(client, "micro-cnn", micro.version, "crop", items, 0))
    api = np.asarray([[p[c] for c in micro.card.classes] for p, _ in got])
    assert all(face is not None for _, face in got)
    np.testing.assert_allclose(api, direct, atol=2e-4)
    scored = api_eval.score(list(micro.card.classes), micro.card.rest_class, items, got)
    labels = np.asarray([micro.card.classes.index(c) for _, c in items])
    assert scored["accuracy"] == pytest.approx(float(np.mean(direct.argmax(1) == labels)))
    assert scored["found"] == scored["images"] == 12


def test_a_clip_is_scored_by_its_dominant_label(micro, faces) -> None:
    """Clip mode: the face in a short H.264 clip, every frame analysed by the video tracker;
    the label most frames give is the one scored."""
    items = api_eval.held_out_sets(faces, list(micro.card.classes), micro.card.model_extra)
    items = items["ckplus5"][:2]
    with TestClient(create_app(Settings(model_repository=SHIPPED))) as client:
        got = list(api_eval.answers(client, "micro-cnn", micro.version, "clip", items, 0))
        body, params = api_eval.requests_for(
            "clip", np.asarray(Image.open(items[0][0])), np.random.default_rng(0)
        )
        r = client.post(
            "/v1/predict", params=params, files={"file": ("c.mp4", body, "video/mp4")}
        ).json()
    assert r["media"]["kind"] == "video" and len(r["frames"]) == api_eval.CLIP_FRAMES
    probs, faces_seen = got[0]
    assert faces_seen == {"faces": r["summary"]["frames_with_face"]} and faces_seen["faces"] > 0
    counts = r["summary"]["label_counts"]
    assert counts[max(probs, key=probs.get)] == max(counts.values())
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-4)


def test_a_face_not_found_counts_as_the_rest_class(micro) -> None:
    classes = list(micro.card.classes)
    items = [(Path("a.png"), "anger"), (Path("b.png"), "anger")]
    hit = {c: float(c == "anger") for c in classes}
    m = api_eval.score(classes, micro.card.rest_class, items, [(hit, {}), (None, None)])
    assert m["found"] == 1 and m["accuracy"] == 0.5
    assert m["expression_as_rest"] == 0.5


def test_the_frame_holds_the_whole_upscaled_face() -> None:
    face = np.full((48, 48), 255, np.uint8)
    rng = np.random.default_rng(3)
    frame = api_eval.in_frame(face, rng)
    assert frame.shape == api_eval.FRAME and frame.dtype == np.uint8
    ys, xs = np.nonzero(frame == 255)
    side = 48 * api_eval.UPSCALE
    assert np.ptp(ys) + 1 >= side - 1 and np.ptp(xs) + 1 >= side - 1
    again = api_eval.in_frame(face, np.random.default_rng(3))
    assert np.array_equal(frame, again)


def test_unknown_mode_is_refused(faces, capsys) -> None:
    with pytest.raises(SystemExit):
        api_eval.main(["--data", str(faces), "--modes", "crop,zoom"])
    assert "unknown modes" in capsys.readouterr().err


def test_the_cli_writes_its_record(faces, tmp_path) -> None:
    out = tmp_path / "api.json"
    assert api_eval.main(["--data", str(faces), "--modes", "crop", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["model"] == "micro-cnn" and set(record["sets"]) == {"ckplus5", "ferplus"}
    assert record["sets"]["ckplus5"]["crop"]["images"] == 12


@pytest.mark.skipif(not (DATA / "ckplus5").is_dir(), reason="needs ../shared/data (CK+)")
@pytest.mark.parametrize("runtime", ["tflite", "int8"])
def test_held_out_ckplus_through_the_api_matches_the_card(micro, runtime) -> None:
    """The float runtime gives the card's figure; the int8 default the one its companion
    recorded when it was measured (``training quantize``)."""
    sets = api_eval.held_out_sets(DATA, list(micro.card.classes), micro.card.model_extra)
    items = sets["ckplus5"]
    card = micro.card.model_extra["evaluation"]["datasets"]["ckplus5"]
    found = read_int8(micro.path)
    assert found is not None, "the default micro model ships an int8 companion"
    expected = {"tflite": card["accuracy"], "int8": found[0].agreement["ckplus5"].accuracy_int8}
    settings = Settings(model_repository=SHIPPED, embedded_runtime=runtime)
    with TestClient(create_app(settings)) as client:
        got = list(api_eval.answers(client, "micro-cnn", micro.version, "crop", items, 0))
    m = api_eval.score(list(micro.card.classes), micro.card.rest_class, items, got)
    assert m["images"] == len(items) > 0
    assert m["accuracy"] == pytest.approx(expected[runtime])


@pytest.mark.skipif(not (DATA / "ckplus5").is_dir(), reason="needs ../shared/data (CK+)")
def test_held_out_ckplus_crops_sent_as_they_are_are_framed_as_the_crop(micro) -> None:
    """A CK+48 face crop uploaded with detection on is found and framed whole (the training
    crops' framing): the same answer as the crop sent with ``detect_faces=false``."""
    sets = api_eval.held_out_sets(DATA, list(micro.card.classes), micro.card.model_extra)
    items = sets["ckplus5"]
    with TestClient(create_app(Settings(model_repository=SHIPPED))) as client:
        crop = list(api_eval.answers(client, "micro-cnn", micro.version, "crop", items, 0))
        as_is = list(api_eval.answers(client, "micro-cnn", micro.version, "as-is", items, 0))
    assert len(as_is) == len(items) > 0
    for (p, face), (q, _) in zip(as_is, crop, strict=True):
        assert face is not None and (face["x"], face["y"]) == (0, 0)
        assert (face["w"], face["h"]) == (48, 48)
        assert p == q
