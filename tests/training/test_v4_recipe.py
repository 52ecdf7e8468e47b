"""The v4 recipe (v3 + more epochs + a neutral decision offset fitted on validation)."""

from __future__ import annotations

import numpy as np
import pytest

from training.calibration import fit_rest_offset, temper
from training.cli import parser
from training.recipes import V4_EPOCHS, named_recipe, recipe_v2, recipe_v3, recipe_v4

PATHS = {"ckplus5": "ck", "ferplus": "fer"}


def test_v4_is_v3_with_more_epochs_and_the_rest_offset():
    v3, v4 = recipe_v3("micro", PATHS), recipe_v4("micro", PATHS)
    assert v4.fit.epochs == V4_EPOCHS > v3.fit.epochs
    assert v4.calibration == "temperature-rest" and v3.calibration == "temperature"
    assert v4.rest_min_recall == 0.85
    same = {**v4.fit.__dict__, "epochs": v3.fit.epochs}
    assert same == v3.fit.__dict__  # nothing else in the fit changed
    assert (v4.cnn_depth, v4.cnn_width, v4.oversample) == (2, 1, {"ckplus5": 8})
    assert recipe_v4("micro", PATHS, epochs=2).fit.epochs == 2
    assert named_recipe("v4", "micro", PATHS, seed=1).seed == 1
    masked = named_recipe("v4", "masked", PATHS)
    assert masked.fit == recipe_v2("masked", PATHS).fit and masked.calibration == "temperature"
    args = parser().parse_args(["train", "--recipe", "v4", "--data", "ckplus5=x"])
    assert args.recipe == "v4"


def test_rest_offset_moves_only_the_rest_logit_and_raises_macro_f1():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 900)
    probs = np.full((900, 3), 0.2)
    probs[np.arange(900), labels] += 0.3
    probs[:, 2] += 0.35  # the model over-calls class 2 (the rest class)
    probs /= probs.sum(axis=1, keepdims=True)
    bias = fit_rest_offset(probs, labels, rest=2)
    assert bias[0] == bias[1] == 0.0 and bias[2] < 0
    before = (probs.argmax(1) == labels).mean()
    after = (temper(probs, 1.0, np.asarray(bias)).argmax(1) == labels).mean()
    assert before < 0.5 < after


def test_rest_offset_keeps_the_rest_recall_it_is_given():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 900)
    probs = rng.dirichlet(np.ones(3), 900) + 0.4 * np.eye(3)[labels]
    probs /= probs.sum(axis=1, keepdims=True)
    free = fit_rest_offset(probs, labels, rest=2)
    held = fit_rest_offset(probs, labels, rest=2, min_rest_recall=0.95)
    pred = temper(probs, 1.0, np.asarray(held)).argmax(1)
    assert np.mean(pred[labels == 2] == 2) >= 0.95 and held[2] > free[2]


def test_rest_offset_stays_zero_when_nothing_is_gained():
    labels = np.array([0, 1, 2, 0, 1, 2])
    probs = np.eye(3)[labels] * 0.9 + 0.1 / 3
    assert fit_rest_offset(probs, labels, rest=2) == [0.0, 0.0, 0.0]


def test_unknown_calibration_is_refused():
    from training.data import Dataset
    from training.pipeline import RunConfig, _calibrate

    ds = Dataset(
        images=np.zeros((2, 4, 4), np.uint8),
        labels=np.array([0, 1]),
        classes=["anger", "neutral"],
        subjects=np.array(["a", "b"]),
        paths=[],
    )
    probs = np.array([[0.8, 0.2], [0.3, 0.7]])
    with pytest.raises(ValueError, match="unknown calibration"):
        _calibrate(RunConfig(data="x", calibration="nope"), ds, probs, ds.labels)
    t, bias = _calibrate(RunConfig(data="x", calibration="temperature-rest"), ds, probs, ds.labels)
    assert t > 0 and bias is not None and bias[0] == 0.0
