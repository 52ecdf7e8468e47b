"""``training quantize``: an exported version gains an int8 companion, measured on its held-out
images, which the embedded ``int8`` runtime then serves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model_artifact import ModelRepository
from model_artifact.quantized import INT8_META_PATH, INT8_PATH, read_int8
from service.backends.runtimes import load_runtime
from training import pipeline
from training.cli import main
from training.export import export_model
from training.quantize import agreement
from training.results import record_from_version


@pytest.fixture(scope="module")
def exported(two_set_run_config, tmp_path_factory):
    config, (ck, fer) = two_set_run_config(seed=2, cnn_batchnorm=True)
    result = pipeline.run(config)
    root = tmp_path_factory.mktemp("quantize")
    version = export_model(result.model, root / "repo", result.card())
    return version, (ck, fer)


@pytest.mark.slow  # one tiny training run (~10 s)
def test_quantize_writes_a_companion_the_runtime_serves(exported, capsys) -> None:
    version, _ = exported
    mmed = (version.path / "assets.extra/mmed.json").read_bytes()
    assert main(["quantize", "--version", str(version.path), "--calibration", "40"]) == 0
    out = capsys.readouterr().out
    assert "same label" in out and "CPU per face" in out
    assert (version.path / "assets.extra/mmed.json").read_bytes() == mmed  # card untouched
    found = read_int8(version.path)
    assert found is not None
    meta, _ = found
    assert meta.calibration.images == 40
    card = json.loads(mmed)
    held = card["evaluation"]["held_out_images"]
    assert set(meta.agreement) == {"ckplus5", "ferplus"}
    assert sum(a.images for a in meta.agreement.values()) == held
    for a in meta.agreement.values():
        assert 0 <= a.label_agreement <= 1 and a.max_abs_diff >= a.mean_abs_diff >= 0
    # the card's held-out accuracy is the float model's, as measured here
    total = sum(a.accuracy_float * a.images for a in meta.agreement.values()) / held
    assert total == pytest.approx(card["metrics"]["accuracy"], abs=1e-6)
    model = ModelRepository(version.path.parents[1]).load(version.name, version.version)
    runtime = load_runtime(model, "int8")
    assert runtime.name == "int8"
    # the same calibration gives the same flatbuffer; an existing one needs --force
    assert main(["quantize", "--version", str(version.path), "--calibration", "40"]) == 2
    before = (version.path / INT8_PATH).read_bytes()
    args = ["quantize", "--version", str(version.path), "--calibration", "40", "--force"]
    assert main(args) == 0
    assert (version.path / INT8_PATH).read_bytes() == before
    assert (version.path / INT8_META_PATH).is_file()


@pytest.mark.slow
def test_other_data_is_refused(exported, make_image_folder, tmp_path) -> None:
    version, (ck, _) = exported
    other = make_image_folder(["anger", "happiness", "neutral"], subjects=9, per_subject=3)
    args = ["quantize", "--version", str(version.path), "--force"]
    assert main([*args, "--data", f"ckplus5={ck}", "--data", f"ferplus={other}"]) == 2


def test_agreement_counts_labels_and_differences() -> None:
    f = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]], np.float32)
    q = np.array([[0.8, 0.2], [0.6, 0.4], [0.2, 0.8]], np.float32)
    a = agreement(f, q, np.array([0, 1, 1]))
    assert a.label_agreement == pytest.approx(2 / 3)
    assert a.max_abs_diff == pytest.approx(0.2) and a.accuracy_float == 1.0
    assert a.accuracy_int8 == pytest.approx(2 / 3) and a.macro_f1_float == 1.0


@pytest.mark.slow  # one tiny training run (~10 s), shared with the test above
def test_record_through_the_int8_runtime_matches_the_companions_figures(exported, tmp_path) -> None:
    """``record --version --runtime int8`` scores the held-out images as the gateway's int8
    runtime answers them: the accuracy the companion recorded when it was made."""
    version, _ = exported
    out = tmp_path / "results"
    args = ["record", "--version", str(version.path), "--label", "t", "--out", str(out)]
    assert main([*args, "--runtime", "savedmodel"]) == 0
    (path,) = out.glob("*.json")
    floats = json.loads(path.read_text())
    assert floats["runtime"] == "savedmodel"
    assert main(["quantize", "--version", str(version.path), "--calibration", "40", "--force"]) == 0
    assert main([*args, "--label", "t8", "--runtime", "int8"]) == 0
    record = json.loads((out / path.name.replace("-t-", "-t8-")).read_text())
    assert record["runtime"] == "int8"
    found = read_int8(version.path)
    assert found is not None
    for name, a in found[0].agreement.items():
        assert record["held_out"][name]["accuracy"] == pytest.approx(a.accuracy_int8, abs=1e-4)
        assert floats["held_out"][name]["accuracy"] == pytest.approx(a.accuracy_float, abs=1e-4)
        assert sum(map(sum, record["held_out"][name]["confusion"])) == a.images


def test_record_refuses_a_runtime_the_version_lacks() -> None:
    shipped = Path(__file__).resolve().parents[2] / "model_repository"
    masked = ModelRepository(shipped).load("masked-cnn")  # no int8 companion
    with pytest.raises(ValueError, match="no usable int8"):
        record_from_version(masked.path, "x", "int8")
    with pytest.raises(ValueError, match="runtime must be"):
        record_from_version(masked.path, "x", "tflite")
