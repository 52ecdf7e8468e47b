"""``training rehead``: a saved run's final layer re-trained on its frozen features (cRT)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training import calibration, pipeline
from training.rehead import rehead


@pytest.fixture(scope="module")
def saved_run(two_set_run_config, tmp_path_factory):
    config, _ = two_set_run_config()
    result = pipeline.run(config)
    return pipeline.save_run(result, tmp_path_factory.mktemp("runs") / "v5")


@pytest.mark.slow  # one tiny training run (~10 s)
def test_only_the_final_layer_changes_and_the_rule_holds(saved_run, tmp_path) -> None:
    _, _, original = pipeline.load_run(saved_run)
    result, choice = rehead(saved_run, grid=[(1, 0.01), (1, 1.0)])
    before = calibration.without_temperature(original).layers
    after = calibration.without_temperature(result.model).layers
    assert len(before) == len(after)
    for a, b in zip(before[:-1], after[:-1], strict=True):
        for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
            np.testing.assert_array_equal(wa, wb)
    n_ck = int((result.dataset.sources[result.test_index] == "ckplus5").sum())
    assert n_ck > 0
    own = json.loads((saved_run / "run.json").read_text())
    history = result.history["rehead"]
    assert history["from"] == str(saved_run) and history["class_weight_power"] == 0.5
    if choice.ck_extra is None:  # kept: the very layer the run had
        for wa, wb in zip(before[-1].get_weights(), after[-1].get_weights(), strict=True):
            np.testing.assert_array_equal(wa, wb)
        assert history["C"] is None
    else:
        assert history["C"] in (0.01, 1.0)
        assert not np.array_equal(before[-1].get_weights()[0], after[-1].get_weights()[0])
    # The held-out split is the run's; the result saves and records like any run.
    out = pipeline.save_run(result, tmp_path / "rehead")
    again = json.loads((out / "run.json").read_text())
    assert again["test_files"] == own["test_files"]
    assert again["history"]["rehead"]["ck_extra"] == choice.ck_extra


@pytest.mark.slow
def test_a_run_without_the_rest_calibration_is_refused(make_image_folder, tmp_path) -> None:
    from training.pipeline import RunConfig
    from training.train import FitOptions

    data = make_image_folder(["anger", "happiness", "neutral"], subjects=4, per_subject=2)
    config = RunConfig(
        data=str(data),
        seed=0,
        test_size=0.25,
        val_size=0.25,
        calibrate=True,
        calibration="temperature",
        fit=FitOptions(epochs=1, batch_size=16, augment=False, verbose=0),
    )
    run_dir = pipeline.save_run(pipeline.run(config), tmp_path / "t")
    with pytest.raises(ValueError, match="temperature-rest"):
        rehead(run_dir)


def test_the_cli_names_the_command() -> None:
    from training.cli import COMMANDS, parser

    args = parser().parse_args(["rehead", "--run", "runs/a", "--out", "runs/b"])
    assert (args.run, args.out) == ("runs/a", "runs/b") and "rehead" in COMMANDS
