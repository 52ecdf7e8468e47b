"""The smile gate (service/gate.py): a masked label needs a smiling face."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from model_artifact import ModelRepository
from service.app import create_app
from service.gate import SmileGate, smile_gates
from service.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "model_repository"
FERPLUS_VALID = REPO / ".." / "shared" / "data" / "ferplus" / "valid"


def shipped(name: str, version: int | None = None):
    if not (SHIPPED / name).is_dir():
        pytest.skip(f"the shipped models are not in {SHIPPED}")
    return ModelRepository(SHIPPED).load(name, version)


def test_apply_needs_both_a_smile_and_a_masked_upper_face() -> None:
    gate = SmileGate(shipped("micro-cnn"), smile=3, rest=2)
    upper = np.array([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.5, 0.3, 0.2]])
    smile = np.zeros((4, 6))
    smile[:, 3] = [1.0, 0.0, 1.0, 0.5]
    out = gate.apply(upper.astype(np.float32), smile.astype(np.float32))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(out[0], upper[0], atol=1e-6)  # a full smile: unchanged
    np.testing.assert_allclose(out[1], [0, 0, 1], atol=1e-6)  # no smile: no masked expression
    np.testing.assert_allclose(out[2], upper[2], atol=1e-6)
    np.testing.assert_allclose(out[3], [0.25, 0.15, 0.6], atol=1e-6)
    # The two masked classes keep their ratio: the gate never swaps anger for sadness.
    assert out[3, 0] / out[3, 1] == pytest.approx(upper[3, 0] / upper[3, 1])


def test_which_models_are_gated() -> None:
    micro, masked = shipped("micro-cnn"), shipped("masked-cnn")
    gates = smile_gates(ModelRepository(SHIPPED).load, "micro-cnn")
    gate = gates(masked)
    assert gate is not None and gate.model.name == "micro-cnn"
    assert gate.model.card.classes[gate.smile] == "happiness"
    assert masked.card.classes[gate.rest] == "none"
    assert gates(micro) is None  # micro answers are never gated
    assert gates(shipped("masked-cnn", 1)) is None  # v1: no rest class to give the rest to
    assert smile_gates(ModelRepository(SHIPPED).load, "")(masked) is None  # switched off
    assert smile_gates(ModelRepository(SHIPPED).load, "no-such-model")(masked) is None
    # A "gate" model without a happiness class (the masked model itself) is refused.
    assert smile_gates(ModelRepository(SHIPPED).load, "masked-cnn")(masked) is None


def test_a_missing_gate_model_is_logged_once_not_per_request(caplog) -> None:
    masked = shipped("masked-cnn")
    gates = smile_gates(ModelRepository(SHIPPED).load, "no-such-model")
    with caplog.at_level("WARNING", logger="mmed.gate"):
        assert [gates(masked) for _ in range(5)] == [None] * 5
    assert len(caplog.records) == 1 and "no-such-model" in caplog.records[0].getMessage()


def _png(grey: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def apps():
    shipped("masked-cnn")
    with (
        TestClient(create_app(Settings(model_repository=SHIPPED))) as gated,
        TestClient(create_app(Settings(model_repository=SHIPPED, smile_gate=""))) as ungated,
    ):
        yield gated, ungated


def _predict(client: TestClient, image: bytes, task: str) -> dict:
    r = client.post(f"/v1/predict?task={task}&detect_faces=false", files={"file": ("f.png", image)})
    assert r.status_code == 200, r.text
    return r.json()


def _faces(folder: str, n: int) -> list[bytes]:
    if not FERPLUS_VALID.is_dir():
        pytest.skip(f"FER+ data not found at {FERPLUS_VALID} (only beside ../shared)")
    paths = sorted((FERPLUS_VALID / folder).glob("*.png"))[:n]
    return [_png(np.asarray(Image.open(p).convert("L"))) for p in paths]


def test_the_api_gates_masked_answers_by_the_micro_models_smile(apps) -> None:
    """Through the API: the gated answer is the ungated masked answer combined with the micro
    model's happiness on the same face, and says which gate it went through."""
    gated, ungated = apps
    for image in _faces("anger", 4) + _faces("happiness", 4):
        g = _predict(gated, image, "masked")
        u = _predict(ungated, image, "masked")
        m = _predict(gated, image, "micro")
        micro_card = shipped("micro-cnn").card
        assert g["model"]["gate"] == {
            "model": "micro-cnn",
            "version": shipped("micro-cnn").version,
            "smile_class": "happiness",
        }
        assert u["model"]["gate"] is None and m["model"]["gate"] is None
        smile = m["frames"][0]["probabilities"]["happiness"]
        upper = u["frames"][0]["probabilities"]
        got = g["frames"][0]["probabilities"]
        for c in ("happy_but_angry", "happy_but_sad"):
            assert got[c] == pytest.approx(smile * upper[c], abs=1e-5)
        assert got["none"] == pytest.approx(1 - smile * (1 - upper["none"]), abs=1e-5)
        assert "happiness" in micro_card.classes


def test_angry_faces_without_a_smile_get_no_masked_label(apps) -> None:
    """Held-out FER+ angry faces: the upper-face model alone calls some of them masked; gated,
    a face the micro model sees no smile on is `none`."""
    gated, ungated = apps
    images = _faces("anger", 60)
    ungated_masked = gated_masked = 0
    for image in images:
        u = _predict(ungated, image, "masked")["frames"][0]["label"]
        g = _predict(gated, image, "masked")["frames"][0]
        ungated_masked += u != "none"
        gated_masked += g["label"] != "none"
    assert gated_masked <= ungated_masked
    assert gated_masked / len(images) <= 0.05, (gated_masked, ungated_masked)


def test_a_pinned_gate_keeps_the_version_it_names() -> None:
    from service.catalogue import UnknownVersion
    from service.gate import pinned_gate

    repo = ModelRepository(SHIPPED)
    masked, micro = shipped("masked-cnn"), shipped("micro-cnn")
    ref = {"model": "micro-cnn", "version": micro.version, "smile_class": "happiness"}
    gate = pinned_gate(repo.load, masked, ref)
    assert gate is not None and gate.model.version == micro.version and gate.rest == 2
    assert gate.model.card.classes[gate.smile] == "happiness"
    assert pinned_gate(repo.load, masked, None) is None  # submitted ungated: stays ungated
    assert pinned_gate(repo.load, shipped("masked-cnn", 1), ref) is None  # no rest class
    with pytest.raises((UnknownVersion, FileNotFoundError, ValueError, LookupError)):
        pinned_gate(repo.load, masked, {**ref, "version": 99})
