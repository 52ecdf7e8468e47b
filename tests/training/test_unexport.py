"""``training unexport``: an exported version back as a run that rehead/export accept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training import calibration, pipeline
from training.cli import main
from training.export import export_model
from training.unexport import config_from_card, unexport


@pytest.fixture(scope="module")
def exported(two_set_run_config, tmp_path_factory):
    config, (ck, fer) = two_set_run_config(seed=1, cnn_batchnorm=True)
    result = pipeline.run(config)
    root = tmp_path_factory.mktemp("unexport")
    run_dir = pipeline.save_run(result, root / "run")
    version = export_model(result.model, root / "repo", result.card())
    return run_dir, version.path, (ck, fer)


@pytest.mark.slow  # one tiny training run (~10 s)
def test_the_run_is_the_exported_network_split_and_calibration(exported, tmp_path) -> None:
    run_dir, version_dir, _ = exported
    config, info, original = pipeline.load_run(run_dir)
    result = unexport(version_dir)
    assert config_from_card(json.loads((version_dir / "assets.extra/mmed.json").read_text())) == (
        config
    )
    for a, b in zip(original.get_weights(), result.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    last = result.model.layers[-1]
    assert isinstance(last, calibration.Temperature)
    assert last.temperature == pytest.approx(original.layers[-1].temperature)
    assert last.bias == original.layers[-1].bias
    out = pipeline.save_run(result, tmp_path / "again")
    again = json.loads((out / "run.json").read_text())
    assert again["test_files"] == info["test_files"]
    assert again["card"]["metrics"] == info["card"]["metrics"]
    assert again["history"]["unexported"]["version"] == 1
    # ... and the run is one the other commands take (here: export it again).
    assert main(["export", "--run", str(out), "--repository", str(tmp_path / "repo")]) == 0


@pytest.mark.slow
def test_other_data_or_other_weights_are_refused(exported, make_image_folder, tmp_path) -> None:
    _, version_dir, (ck, _) = exported
    other = make_image_folder(["anger", "happiness", "neutral"], subjects=9, per_subject=3)
    with pytest.raises(ValueError, match=r"held-out|held out"):
        unexport(version_dir, data=[f"ckplus5={ck}", f"ferplus={other}"])
    card_path = version_dir / "assets.extra/mmed.json"
    card = json.loads(card_path.read_text())
    broken = tmp_path / "v"
    import shutil

    shutil.copytree(version_dir, broken)
    card["evaluation"]["temperature"] = 3.0  # not the calibration the SavedModel has
    (broken / "assets.extra/mmed.json").write_text(json.dumps(card))
    with pytest.raises(ValueError, match="differs"):
        unexport(broken)
    assert main(["unexport", "--version", str(broken), "--out", str(tmp_path / "r")]) == 2
