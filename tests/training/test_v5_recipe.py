"""The v5 recipe: a v4 network trained on (``init_from``), with balanced weights and more CK+."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from training.cli import _config, parser
from training.data import DataError
from training.recipes import V5_OVERSAMPLE, named_recipe, recipe_v4, recipe_v5

PATHS = {"ckplus5": "ck", "ferplus": "fer"}


def test_v5_is_v4_with_a_lower_rate_balanced_weights_and_more_ck():
    v4, v5 = recipe_v4("micro", PATHS), recipe_v5("micro", PATHS)
    assert (v5.fit.learning_rate, v5.fit.class_weight_power, v5.fit.epochs) == (3e-4, 1.0, 8)
    assert v5.oversample == {"ckplus5": V5_OVERSAMPLE} and v4.oversample["ckplus5"] < V5_OVERSAMPLE
    changed = {"learning_rate", "class_weight_power", "epochs"}
    assert {k: v for k, v in v5.fit.__dict__.items() if k not in changed} == {
        k: v for k, v in v4.fit.__dict__.items() if k not in changed
    }
    assert (v5.calibration, v5.rest_min_recall) == (v4.calibration, v4.rest_min_recall)
    assert (v5.cnn_depth, v5.cnn_width) == (v4.cnn_depth, v4.cnn_width)
    assert named_recipe("v5", "masked", PATHS).fit == recipe_v4("masked", PATHS).fit


def test_cli_passes_init_from_with_and_without_a_recipe():
    args = parser().parse_args(
        ["train", "--recipe", "v5", "--data", "ckplus5=x", "--init-from", "runs/a"]
    )
    assert _config(args).init_from == "runs/a"
    args = parser().parse_args(["train", "--data", "x", "--init-from", "runs/b"])
    assert _config(args).init_from == "runs/b"


def test_v5_refuses_to_train_from_scratch():
    """v5 continues a v4 network: without --init-from it would silently start from random."""
    args = parser().parse_args(["train", "--recipe", "v5", "--data", "ckplus5=x"])
    with pytest.raises(DataError, match="--init-from"):
        _config(args)
    args = parser().parse_args(["train", "--recipe", "v4", "--data", "ckplus5=x"])
    assert _config(args).init_from is None


@pytest.mark.slow  # trains two tiny runs (~10 s)
def test_a_run_starts_from_a_saved_network_and_refuses_another_split(tiny_run_config, tmp_path):
    """The second run starts from the first run's uncalibrated weights (zero epochs: it *is*
    that network, so it predicts what the first did before calibration); a run with another
    held-out split is refused, since the saved network trained on some of its held-out faces."""
    from training import calibration, pipeline

    config = tiny_run_config(calibration="temperature")
    first = pipeline.run(config)
    run_dir = pipeline.save_run(first, tmp_path / "first")
    fresh = replace(
        config, init_from=str(run_dir), calibrate=False, fit=replace(config.fit, epochs=0)
    )
    second = pipeline.run(fresh)
    base = calibration.without_temperature(first.model)
    images = first.dataset.images[first.test_index][..., None].astype("float32")
    np.testing.assert_allclose(
        second.model.predict(images, verbose=0), base.predict(images, verbose=0), atol=1e-6
    )
    assert second.card()["recipe"]["init_from"] == "first"  # the card names where it began
    assert first.card()["recipe"]["init_from"] is None
    with pytest.raises(ValueError, match="held out other files"):
        pipeline.run(replace(fresh, seed=1))
