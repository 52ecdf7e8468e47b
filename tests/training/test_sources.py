"""Several datasets at once: shipped splits, per-dataset class maps, vote soft labels, the
split by source, temperature scaling and the rest-class metrics."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from training.calibration import Temperature, fit_temperature, temper, with_temperature
from training.data import DataError
from training.evaluate import compute_metrics, expected_calibration_error
from training.pipeline import RunConfig, load, split_by_source
from training.sources import DataSpec, parse_specs, scoped, unscoped


def write_image_folder(root: Path, classes: list[str], subjects: int = 6, seed: int = 0) -> Path:
    """``root/<class>/S<subject>_<seq>_0.png`` random grey 40x40 images, one per subject."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for s in range(subjects):
            pixels = rng.integers(0, 256, (40, 40), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"S{s + 10:03d}_{c + 1:03d}_00000000.png")
    return root


def presplit(root: Path, classes: list[str]) -> Path:
    """``root/{train,valid}/<class>/`` with a FER+-style votes.csv in each split."""
    for split, seed in (("train", 1), ("valid", 2)):
        folder = write_image_folder(root / split, classes, subjects=4, seed=seed)
        rows = []
        for c, name in enumerate(classes):
            for path in sorted((folder / name).glob("*.png")):
                votes = dict.fromkeys([*classes, "unknown"], 0)
                votes[name] = 6
                votes[classes[(c + 1) % len(classes)]] = 2  # a second opinion
                votes["unknown"] = 2  # never a class
                rows.append({"file": path.name, **votes})
        with (folder / "votes.csv").open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["file", *classes, "unknown"])
            writer.writeheader()
            writer.writerows(rows)
    return root


@pytest.fixture
def two_sets(tmp_path: Path) -> tuple[Path, Path]:
    posed = write_image_folder(tmp_path / "posed", ["anger", "happiness", "sadness"], subjects=6)
    wild = presplit(tmp_path / "wild", ["anger", "fear", "happiness", "neutral"])
    return posed, wild


def test_specs_and_scopes() -> None:
    assert parse_specs(["a=/x", "/data/b"]) == [DataSpec("a", "/x"), DataSpec("b", "/data/b")]
    with pytest.raises(DataError, match="must differ"):
        parse_specs(["/x/a", "/y/a"])
    items = ["none=happiness", "wild:none=neutral", "posed:fear"]
    assert unscoped(items) == ["none=happiness"]
    assert scoped(items, "wild") == ["none=happiness", "none=neutral"]
    assert scoped(items, "posed") == ["none=happiness", "fear"]


def test_two_datasets_share_classes_splits_and_soft_targets(two_sets) -> None:
    posed, wild = two_sets
    config = RunConfig(
        data=[f"posed={posed}", f"wild={wild}"], skip_folders={"wild": ["fear"]}, size=24
    )
    ds = load(config)
    assert ds.classes == ["anger", "happiness", "sadness", "neutral"]  # the task's order
    assert set(ds.sources) == {"posed", "wild"}
    wild_rows = ds.sources == "wild"
    assert set(ds.fixed_split[wild_rows]) == {"train", "valid"}
    assert set(ds.fixed_split[~wild_rows]) == {""}
    assert not any(p.parent.name == "fear" for p in ds.paths)
    # votes: 6 own + 2 for the next folder; the vote for dropped fear and "unknown" are left
    # out and the rest renormalised.
    targets = ds.soft_targets()
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    assert np.all(targets[~wild_rows].max(axis=1) == 1.0)  # posed: one-hot
    anger = [i for i, p in enumerate(ds.paths) if p.parent.name == "anger" and wild_rows[i]]
    np.testing.assert_allclose(targets[anger[0]], [1.0, 0, 0, 0])  # anger's 2nd vote is fear
    happy = [i for i, p in enumerate(ds.paths) if p.parent.name == "happiness" and wild_rows[i]]
    np.testing.assert_allclose(targets[happy[0]], [0, 0.75, 0, 0.25])

    train, test = split_by_source(ds, "subject", 0.34, seed=0)
    assert not set(train) & set(test)
    assert set(ds.fixed_split[test[ds.sources[test] == "wild"]]) == {"valid"}
    assert set(ds.fixed_split[train[ds.sources[train] == "wild"]]) == {"train"}
    posed_train = set(ds.subjects[train][ds.sources[train] == "posed"])
    posed_test = set(ds.subjects[test][ds.sources[test] == "posed"])
    assert posed_test and not posed_train & posed_test


def test_per_dataset_class_maps_send_two_folders_to_one_class(two_sets) -> None:
    posed, wild = two_sets
    config = RunConfig(
        data=[f"posed={posed}", f"wild={wild}"],
        task="masked",
        face_region="upper",
        size=24,
        class_maps={
            "posed": {"anger": "happy_but_angry", "happiness": "none"},
            "wild": {"anger": "happy_but_angry", "happiness": "none", "neutral": "none"},
        },
    )
    ds = load(config)
    assert ds.classes == ["happy_but_angry", "none"]
    wild_none = {
        p.parent.name
        for i, p in enumerate(ds.paths)
        if ds.sources[i] == "wild" and ds.classes[ds.labels[i]] == "none"
    }
    assert wild_none == {"happiness", "neutral"}


def test_unknown_folder_is_refused_unless_skipped(two_sets) -> None:
    _, wild = two_sets
    with pytest.raises(DataError, match="--skip-folder"):
        load(RunConfig(data=[f"wild={wild}"], size=24))


def test_temperature_is_recovered_and_baked_in() -> None:
    import keras

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (4000, 4))
    labels = np.asarray(
        [
            rng.choice(4, p=p)
            for p in temper(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), 1.0)
        ]
    )
    overconfident = temper(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), 0.5)
    t = fit_temperature(overconfident, labels)
    assert 1.7 < t < 2.3  # undoes the 0.5
    calibrated = temper(overconfident, t)
    assert expected_calibration_error(calibrated, labels) < expected_calibration_error(
        overconfident, labels
    )
    inputs = keras.Input((4,))
    model = with_temperature(keras.Model(inputs, keras.layers.Softmax()(inputs)), t)
    assert isinstance(model.layers[-1], Temperature)
    out = np.asarray(model.predict(logits[:8].astype("float32"), verbose=0))
    softmax = np.exp(logits[:8]) / np.exp(logits[:8]).sum(1, keepdims=True)
    np.testing.assert_allclose(out, temper(softmax, t), atol=1e-5)


def test_rest_class_metrics() -> None:
    classes = ["anger", "happiness", "neutral"]
    y_true = np.asarray([0, 0, 1, 1, 2, 2, 2, 2])
    probs = np.asarray(
        [
            [0.6, 0.1, 0.3],  # anger ✓
            [0.3, 0.2, 0.5],  # anger → neutral (restricted: anger ✓)
            [0.1, 0.8, 0.1],  # happiness ✓
            [0.5, 0.1, 0.4],  # happiness → anger
            [0.1, 0.1, 0.8],
            [0.1, 0.1, 0.8],
            [0.1, 0.1, 0.8],
            [0.7, 0.2, 0.1],  # neutral → anger
        ]
    )
    m = compute_metrics(y_true, probs.argmax(1), classes, probs, "neutral")
    assert m["rest_rate"] == 0.75
    assert m["expression_as_rest"] == 0.25
    assert m["expressions"]["argmax_all"]["accuracy"] == 0.5
    assert m["expressions"]["restricted"]["accuracy"] == 0.75
    assert 0 <= m["ece"] <= 1


def test_masked_proxy_composes_the_same_subjects_faces(tmp_path: Path) -> None:
    from training.data import read_grey
    from training.masked_proxy import build, compose

    root = write_image_folder(tmp_path / "posed", ["anger", "happiness", "sadness"], subjects=3)
    (root / "anger" / "S010_001_00000000.png").unlink()  # S010 has no angry face
    counts = build(root, tmp_path / "proxy", subjects={"S010", "S011"})
    assert counts == {"happy_but_angry": 1, "happy_but_sad": 2, "none": 2}
    made = read_grey(tmp_path / "proxy" / "happy_but_angry" / "S011_001_00000000_on_smile.png")
    expected = compose(
        read_grey(root / "anger" / "S011_001_00000000.png"),
        read_grey(root / "happiness" / "S011_002_00000000.png"),
    )
    np.testing.assert_array_equal(made, expected)
    assert made.shape == (48, 48)


def test_bias_corrected_temperature_undoes_a_prior_shift() -> None:
    from training.calibration import fit_bias_temperature

    rng = np.random.default_rng(1)
    logits = rng.normal(0, 2, (6000, 3))
    true = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.asarray([rng.choice(3, p=p) for p in true])
    shifted = temper(true, 1.0, bias=np.asarray([1.0, 0.0, -1.0]))  # a reweighted model
    t, bias = fit_bias_temperature(shifted, labels)
    assert 0.85 < t < 1.15
    np.testing.assert_allclose(bias, [-1.0, 0.0, 1.0], atol=0.15)
