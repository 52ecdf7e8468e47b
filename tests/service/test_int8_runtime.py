"""The embedded ``int8`` runtime (the default): the version's int8 companion, used only when it
verifies, else the float TFLite conversion; its answers are distributions that do not depend
on the other rows of a batch."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from model_artifact.quantized import INT8_META_PATH, INT8_PATH, read_int8
from service.backends.runtimes import LiteRuntime, SavedModelRuntime, load_runtime
from service.catalogue import Catalogue
from tests.service.test_runtimes import SHIPPED, faces_like


@pytest.fixture(scope="module")
def micro():
    return Catalogue(SHIPPED).get("micro-cnn")


def test_the_default_micro_model_runs_its_int8_companion(micro) -> None:
    runtime = load_runtime(micro, "int8")
    assert isinstance(runtime, LiteRuntime) and runtime.name == "int8"
    meta, _ = read_int8(micro.path)  # type: ignore[misc]
    # what quantize measured on held-out faces: the same label on almost every one
    assert all(a.label_agreement >= 0.97 for a in meta.agreement.values())
    spec = micro.card.input
    batch = faces_like(spec.height, spec.width, 32, 7)
    got = runtime.run(batch)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)  # renormalised rows
    # fixed activation ranges: a row's answer is the same alone as in any batch
    for i in (0, 5, 31):
        np.testing.assert_array_equal(runtime.run(batch[i : i + 1])[0], got[i])
    want = SavedModelRuntime(micro).run(batch)
    assert float(np.abs(got - want).max()) < 0.15  # near the float model, not equal to it


def test_a_version_without_a_companion_runs_as_float_tflite(
    tmp_path: Path, micro, caplog: pytest.LogCaptureFixture
) -> None:
    copy = tmp_path / "micro-cnn"
    shutil.copytree(micro.path, copy / str(micro.version))
    (copy / str(micro.version) / INT8_PATH).unlink()
    (copy / str(micro.version) / INT8_META_PATH).unlink()
    with caplog.at_level(logging.INFO, logger="mmed.backend.embedded"):
        runtime = load_runtime(Catalogue(tmp_path).get("micro-cnn"), "int8")
    assert isinstance(runtime, LiteRuntime) and runtime.name == "tflite"
    assert "no int8 companion" in caplog.text


def _tampered(tmp_path: Path, micro, how: str) -> Path:
    copy = tmp_path / how / "micro-cnn"
    version = copy / str(micro.version)
    shutil.copytree(micro.path, version)
    meta_path = version / INT8_META_PATH
    meta = json.loads(meta_path.read_text())
    if how == "flatbuffer":
        data = bytearray((version / INT8_PATH).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (version / INT8_PATH).write_bytes(bytes(data))
    elif how == "savedmodel":
        meta["savedmodel_sha256"] = "0" * 64
    elif how == "probe":
        meta["probe_output"][0] = [1.0] + [0.0] * (len(meta["probe_output"][0]) - 1)
    elif how == "malformed":
        meta = {"format": "tflite-int8"}
    elif how == "missing":
        (version / INT8_PATH).unlink()
    meta_path.write_text(json.dumps(meta))
    return copy.parent


@pytest.mark.parametrize("how", ["flatbuffer", "savedmodel", "probe", "malformed", "missing"])
def test_a_companion_that_does_not_verify_is_not_used(
    tmp_path: Path, micro, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = _tampered(tmp_path, micro, how)
    with caplog.at_level(logging.WARNING, logger="mmed.backend.embedded"):
        runtime = load_runtime(Catalogue(root).get("micro-cnn"), "int8")
    assert runtime.name == "tflite"  # served all the same, as the float conversion
    assert "int8 companion not used" in caplog.text


def test_the_float_runtimes_ignore_the_companion(micro) -> None:
    assert load_runtime(micro, "tflite").name == "tflite"
    assert load_runtime(micro, "savedmodel").name == "savedmodel"


VIDEO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "video"


@pytest.mark.slow
@pytest.mark.skipif(
    not (VIDEO / "single_face.mp4").is_file(),
    reason=f"recorded clips not present ({VIDEO}: ../shared/data/video)",
)
def test_int8_and_float_tell_the_same_story_on_a_real_clip(capsys) -> None:
    """Every frame of a recorded webcam clip: the same label on each frame (measured on all
    five clips: README "int8 on the CPU"), probabilities within 0.1."""
    from tools import runtime_agreement

    assert runtime_agreement.main([str(VIDEO / "single_face.mp4")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all("labels differ on 0," in line for line in lines[1:])
    gaps = [float(line.split("max |dp| ")[1].split(";")[0]) for line in lines[1:]]
    assert max(gaps) < 0.1


def test_the_catalogue_says_which_runtime_serves_each_model() -> None:
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings

    with TestClient(create_app(Settings(model_repository=SHIPPED))) as client:
        models = {m["name"]: m for m in client.get("/v1/models").json()["models"]}
        assert models["micro-cnn"]["runtime"] == "int8"  # ships a companion
        assert models["masked-cnn"]["runtime"] == "tflite"  # ships none
    settings = Settings(model_repository=SHIPPED, embedded_runtime="tflite")
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/models/micro-cnn").json()["runtime"] == "tflite"
