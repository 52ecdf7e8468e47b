"""The embedded backend's runtimes: TFLite (the default) gives the SavedModel signature's
probabilities for every shipped model version, at any batch size, or is not used."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import numpy as np
import pytest

from model_artifact import ModelVersion
from service.backends import runtimes
from service.backends.embedded import EmbeddedBackend
from service.backends.runtimes import (
    PARITY_ATOL,
    LiteRuntime,
    SavedModelRuntime,
    load_runtime,
)
from service.catalogue import Catalogue
from service.settings import Settings

SHIPPED = Path(__file__).resolve().parents[2] / "model_repository"


def shipped_versions() -> list[ModelVersion]:
    catalogue = Catalogue(SHIPPED)
    return [catalogue.get(m, v) for m in catalogue.names() for v in catalogue.versions(m)]


def newest_fast_older_slow() -> list:
    """Every shipped version; the older ones are marked slow (``make test`` runs them)."""
    newest = {m: max(Catalogue(SHIPPED).versions(m)) for m in Catalogue(SHIPPED).names()}
    return [
        pytest.param(
            m,
            id=f"{m.name}-{m.version}",
            marks=() if m.version == newest[m.name] else pytest.mark.slow,
        )
        for m in shipped_versions()
    ]


def faces_like(spec_h: int, spec_w: int, n: int, seed: int) -> np.ndarray:
    """Smooth grey images (a blurred random field), closer to faces than white noise."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (n, 8, 8), dtype=np.uint8)
    out = np.stack([cv2.resize(s, (spec_w, spec_h), interpolation=cv2.INTER_CUBIC) for s in small])
    return out[..., None]


@pytest.mark.parametrize("model", newest_fast_older_slow())
def test_tflite_matches_the_signature_on_every_shipped_model(model: ModelVersion) -> None:
    reference = SavedModelRuntime(model)
    lite = load_runtime(model, "tflite")
    assert isinstance(lite, LiteRuntime)  # the shipped models all convert and agree
    spec = model.card.input
    for n, seed in ((1, 1), (32, 2), (5, 3), (32, 4)):  # shapes change back and forth
        batch = faces_like(spec.height, spec.width, n, seed)
        got, want = lite.run(batch), reference.run(batch)
        assert got.shape == want.shape == (n, len(model.card.classes))
        np.testing.assert_allclose(got, want, atol=PARITY_ATOL)
        assert np.array_equal(got.argmax(1), want.argmax(1))


def test_savedmodel_runtime_is_selectable(caplog: pytest.LogCaptureFixture) -> None:
    model = Catalogue(SHIPPED).get("micro-cnn")
    backend = EmbeddedBackend(Settings(embedded_runtime="savedmodel", embedded_max_batch=0))
    spec = model.card.input
    with caplog.at_level(logging.INFO, logger="mmed.backend.embedded"):
        out = asyncio.run(backend.predict(model, faces_like(spec.height, spec.width, 3, 5)))
    assert out.shape == (3, len(model.card.classes))
    assert "(savedmodel)" in caplog.text


def test_a_model_that_does_not_agree_runs_as_a_savedmodel(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    model = Catalogue(SHIPPED).get("micro-cnn")
    monkeypatch.setattr(runtimes, "_AGREES", {})  # no verdict kept from earlier loads
    real_run = LiteRuntime.run
    monkeypatch.setattr(LiteRuntime, "run", lambda self, b: real_run(self, b) + 0.01)
    with caplog.at_level(logging.WARNING, logger="mmed.backend.embedded"):
        runtime = load_runtime(model, "tflite")
    assert isinstance(runtime, SavedModelRuntime)
    assert "TFLite differs" in caplog.text


def test_a_content_that_agreed_once_starts_without_the_savedmodel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import shutil

    monkeypatch.setattr(runtimes, "_AGREES", {})
    model = Catalogue(SHIPPED).get("micro-cnn")
    assert isinstance(load_runtime(model, "tflite"), LiteRuntime)  # probed against the signature

    def no_savedmodel(self: SavedModelRuntime, model: ModelVersion) -> None:
        raise AssertionError("the SavedModel was loaded again")

    monkeypatch.setattr(SavedModelRuntime, "__init__", no_savedmodel)
    copy = tmp_path / "micro-cnn"
    shutil.copytree(SHIPPED / "micro-cnn", copy)  # same content elsewhere: the same verdict
    again = load_runtime(Catalogue(tmp_path).get("micro-cnn"), "tflite")
    assert isinstance(again, LiteRuntime)
    (copy / str(model.version) / "variables" / "variables.index").write_bytes(b"changed")
    with pytest.raises(AssertionError, match="loaded again"):  # new content: probed again
        load_runtime(Catalogue(tmp_path).get("micro-cnn"), "tflite")


def test_wrong_and_empty_batches() -> None:
    model = Catalogue(SHIPPED).get("micro-cnn")
    lite = LiteRuntime(model)
    spec = model.card.input
    assert lite.run(np.zeros((0, spec.height, spec.width, 1), np.uint8)).shape == (
        0,
        len(model.card.classes),
    )
    for wrong in ((1, spec.height, spec.width), (1, spec.height + 1, spec.width, 1)):
        with pytest.raises(ValueError, match="expected"):
            lite.run(np.zeros(wrong, np.uint8))
    assert lite.run(np.zeros((2, spec.height, spec.width, 1), np.uint8)).shape[0] == 2
