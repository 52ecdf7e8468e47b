"""Every architecture: train, evaluate, export, then load the SavedModel back with TensorFlow."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from model_artifact import ModelRepository
from model_artifact.repository import CARD_PATH, WARMUP_PATH
from training.archs import SPECS, UnknownArchError, build_model
from training.export import export_model
from training.pipeline import RunConfig, run
from training.train import FitOptions

CLASSES = ["anger", "happiness", "sadness"]  # a subset of micro, in the task's order
FAST = FitOptions(
    epochs=1, batch_size=8, augment=True, early_stopping=1, verbose=0, run_eagerly=True
)


@pytest.fixture(scope="module")
def data(make_image_folder):
    return make_image_folder(CLASSES, subjects=5, per_subject=1, size=(40, 36))


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    return tmp_path_factory.mktemp("repo")


# The ImageNet architectures take minutes to build and train even this small: slow.
ARCHS = [arch if arch == "cnn" else pytest.param(arch, marks=pytest.mark.slow) for arch in SPECS]


@pytest.mark.parametrize("arch", ARCHS)
def test_train_evaluate_export_and_load(arch, data, repository):
    size = SPECS[arch].min_size if arch != "cnn" else 48
    config = RunConfig(data=str(data), arch=arch, size=size, seed=1, val_size=0.25, fit=FAST)
    result = run(config)
    # evaluation on held-out subjects only
    ds = result.dataset
    assert set(ds.subjects[result.train_index]).isdisjoint(ds.subjects[result.test_index])
    per_class = result.metrics["per_class"]
    assert list(per_class) == CLASSES
    assert sum(c["support"] for c in per_class.values()) == len(result.test_index)

    version = export_model(result.model, repository, result.card())
    assert version.name == f"micro-{arch}" and version.version == 1
    card = json.loads((version.path / CARD_PATH).read_text())
    assert card["classes"] == CLASSES
    assert card["input"] == {"height": size, "width": size, "channels": 1, "dtype": "uint8"}
    assert card["metrics"]["accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert card["training"]["split"] == "subject"

    loaded = tf.saved_model.load(str(version.path))
    signature = loaded.signatures["serving_default"]
    _, inputs = signature.structured_input_signature
    assert list(inputs) == ["image"]
    assert inputs["image"].dtype == tf.uint8
    assert inputs["image"].shape.as_list() == [None, size, size, 1]
    outputs = signature.structured_outputs
    assert list(outputs) == ["probabilities"]
    assert outputs["probabilities"].dtype == tf.float32
    assert outputs["probabilities"].shape.as_list() == [None, len(CLASSES)]

    crops = ds.images[result.test_index][..., None]
    probs = signature(image=tf.constant(crops))["probabilities"].numpy()
    assert probs.shape == (len(crops), len(CLASSES))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # all preprocessing is inside the graph: raw uint8 in, the Keras model's answer out
    expected = result.model.predict(crops.astype("float32"), verbose=0)
    np.testing.assert_allclose(probs, expected, atol=1e-4)
    # class order: the card's metrics were computed with the same arg-max the signature gives
    np.testing.assert_array_equal(np.argmax(probs, axis=1), result.predictions)


@pytest.mark.slow
def test_versions_increment_and_never_overwrite(tiny_repository, tmp_path):
    import shutil

    repo_dir = tmp_path / "repo"
    shutil.copytree(tiny_repository, repo_dir)
    repo = ModelRepository(repo_dir)
    first = repo.load("micro-cnn", 1)
    before = (first.path / "saved_model.pb").read_bytes()
    model = build_model("cnn", 5, 48)
    card = first.card.model_dump(mode="json")
    second = export_model(model, repo, card)
    (repo_dir / "micro-cnn" / "3").mkdir()  # a version directory claimed by someone else
    fourth = export_model(model, repo, card)
    assert (second.version, fourth.version) == (2, 4)
    assert (first.path / "saved_model.pb").read_bytes() == before
    assert repo.versions("micro-cnn") == [1, 2, 4]
    assert not [p for p in (repo_dir / "micro-cnn").iterdir() if p.name.startswith(".")]


def test_warmup_records_and_serving_configs(tiny_repository):
    repo = ModelRepository(tiny_repository)
    assert sorted(p.name for p in tiny_repository.glob("*.config")) == [
        "batching.config",
        "models.config",
        "monitoring.config",
    ]
    config = (tiny_repository / "models.config").read_text()
    for mv in repo.latest():
        assert f'name: "{mv.name}"' in config
        records = list(tf.data.TFRecordDataset(str(mv.path / WARMUP_PATH)).as_numpy_iterator())
        assert 1 <= len(records) <= 1000
        for raw in records:
            log = prediction_log_pb2.PredictionLog.FromString(raw)
            request = log.predict_log.request
            assert request.model_spec.name == mv.name
            assert request.model_spec.signature_name == "serving_default"
            batch = tf.make_ndarray(request.inputs["image"])
            assert batch.dtype == np.uint8
            assert batch.shape[1:] == (mv.card.input.height, mv.card.input.width, 1)


def test_tiny_repository_holds_both_tasks(tiny_repository):
    repo = ModelRepository(tiny_repository)
    cards = {mv.name: mv.card for mv in repo.latest()}
    assert set(cards) == {"micro-cnn", "masked-cnn"}
    assert cards["micro-cnn"].classes == [
        "anger",
        "contempt",
        "disgust",
        "happiness",
        "sadness",
    ]
    assert cards["masked-cnn"].classes == ["happy_but_angry", "happy_but_sad"]
    assert (cards["micro-cnn"].face_region, cards["masked-cnn"].face_region) == ("full", "upper")
    assert cards["masked-cnn"].input.height == 48


def test_export_rejects_an_inconsistent_card(tmp_path):
    model = build_model("cnn", 3, 48)
    card = {
        "name": "micro-cnn",
        "task": "micro",
        "arch": "cnn",
        "classes": ["anger", "sadness"],
        "face_region": "full",
        "training": {
            "dataset": "x",
            "split": "subject",
            "seed": 0,
            "epochs": 1,
            "image_count": 1,
            "subjects": 1,
        },
        "metrics": {"accuracy": 0.5, "macro_f1": 0.5, "per_class": {}},
    }
    with pytest.raises(ValueError, match="3 classes"):
        export_model(model, tmp_path, card)
    with pytest.raises(ValueError, match="disagrees"):
        export_model(model, tmp_path, {**card, "name": "micro-vgg16"})
    assert not list(tmp_path.iterdir())


def test_build_errors():
    with pytest.raises(UnknownArchError, match="unknown architecture 'alexnet'"):
        build_model("alexnet", 5)
    with pytest.raises(ValueError, match="at least 75 px"):
        build_model("inceptionv3", 5, size=64)
    with pytest.raises(ValueError, match="no ImageNet weights"):
        build_model("cnn", 5, weights="imagenet")


def test_paper_cnn_is_table_2():
    model = build_model("cnn", 5)
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [16, 32, 64]
    assert all(c.kernel_size == (3, 3) for c in convs)
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert [d.units for d in dense] == [128, 5]
    assert dense[-1].activation.__name__ == "softmax"
    assert model.input_shape == (None, 48, 48, 1)


@pytest.mark.parametrize("arch", ["cnn", pytest.param("vgg16", marks=pytest.mark.slow)])
def test_weights_from_a_path(arch, tmp_path):
    import keras

    if arch == "cnn":
        source = build_model("cnn", 5, 48)
        weights = source.get_weights()
    else:  # a backbone's no-top weights file, as Keras' ImageNet cache would hold
        source = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
        weights = source.get_weights()
    path = tmp_path / "init.weights.h5"
    source.save_weights(path)
    model = build_model(arch, 5, 48 if arch == "cnn" else 32, weights=str(path))
    loaded = model.get_weights() if arch == "cnn" else model.get_layer("vgg16").get_weights()
    for a, b in zip(weights, loaded, strict=True):
        np.testing.assert_array_equal(a, b)
