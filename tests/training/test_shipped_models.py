"""The demo models committed under ``model_repository/``: contract, size and held-out figures.

With ``<repo>/../shared/data/ckplus5`` present, the figures in each mmed.json are recomputed
from the SavedModel itself on the held-out subjects, and those subjects are checked to be the
seeded subject split the card names (so they were neither picked by hand nor seen in training).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model_artifact import ModelRepository
from training.data import load_dataset, parse_class_map
from training.evaluate import compute_metrics
from training.splits import split

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = REPO_ROOT / "model_repository"
CKPLUS5 = REPO_ROOT / ".." / "shared" / "data" / "ckplus5"
BARS = {"micro-cnn": (0.85, 0.80), "masked-cnn": (0.75, 0.0)}  # accuracy, macro-F1


@pytest.fixture(scope="module")
def shipped() -> dict:
    return {mv.name: mv for mv in ModelRepository(SHIPPED).latest()}


def test_demo_models_are_shipped_small_and_well_formed(shipped):
    assert {"micro-cnn", "masked-cnn"} <= set(shipped)
    size = sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file())
    assert size < 20 * 2**20, f"model_repository/ is {size / 2**20:.1f} MiB"
    micro, masked = shipped["micro-cnn"].card, shipped["masked-cnn"].card
    assert micro.classes == ["anger", "contempt", "disgust", "happiness", "sadness"]
    assert masked.classes == ["happy_but_angry", "happy_but_sad"]
    assert (micro.face_region, masked.face_region) == ("full", "upper")
    for card in (micro, masked):
        assert card.training.dataset == "ckplus5"
        assert card.training.split == "subject"
        assert (card.input.height, card.input.width) == (48, 48)
    for name in ("models.config", "batching.config", "monitoring.config"):
        assert (SHIPPED / name).is_file()


@pytest.mark.parametrize("name", sorted(BARS))
def test_card_figures_meet_the_bar(shipped, name):
    accuracy, macro_f1 = BARS[name]
    metrics = shipped[name].card.metrics
    assert metrics.accuracy >= accuracy
    assert metrics.macro_f1 >= macro_f1


@pytest.mark.parametrize("name", sorted(BARS))
def test_figures_recomputed_on_unseen_subjects(shipped, name):
    if not CKPLUS5.is_dir():
        pytest.skip(f"shared CK+ data not found at {CKPLUS5.resolve()}")
    import tensorflow as tf

    mv = shipped[name]
    card, extra = mv.card, mv.card.model_extra
    recipe = extra["recipe"]
    ds = load_dataset(
        CKPLUS5,
        task=card.task,
        size=card.input.height,
        face_region=card.face_region,
        subject_regex=recipe["subject_regex"],
        class_map=recipe["class_map"] or None,
    )
    assert ds.classes == card.classes
    held_out = set(extra["evaluation"]["held_out_subject_ids"])
    train_index, test_index = split(
        "subject", ds.labels, ds.subjects, extra["evaluation"]["test_size"], card.training.seed
    )
    assert set(ds.subjects[test_index]) == held_out
    assert held_out.isdisjoint(ds.subjects[train_index])
    assert len(train_index) == card.training.image_count

    signature = tf.saved_model.load(str(mv.path)).signatures["serving_default"]
    probs = signature(image=tf.constant(ds.images[test_index][..., None]))["probabilities"]
    metrics = compute_metrics(ds.labels[test_index], np.argmax(probs.numpy(), 1), ds.classes)
    assert metrics["accuracy"] == pytest.approx(card.metrics.accuracy, abs=1e-6)
    assert metrics["macro_f1"] == pytest.approx(card.metrics.macro_f1, abs=1e-6)


def test_masked_proxy_mapping(shipped):
    recipe = shipped["masked-cnn"].card.model_extra["recipe"]
    assert recipe["class_map"] == parse_class_map(
        ["happy_but_angry=anger", "happy_but_sad=sadness"]
    )
