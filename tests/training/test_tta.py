"""Test-time augmentation (training.tta): the views, the averaging, the rule, the stored report."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from training import tta

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"


def _model(symmetric: bool, size: int = 6, classes: int = 3) -> keras.Model:
    """A tiny softmax model on raw pixels: flip-symmetric (global average pooling, which no
    mirror changes) or not (a dense layer on the flattened pixels)."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    if symmetric:
        x = keras.layers.Conv2D(4, 1)(x)  # per-pixel: commutes with a mirror
        x = keras.layers.GlobalAveragePooling2D()(x)
    else:
        x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def _images(n: int = 8, size: int = 6) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (n, size, size), dtype=np.uint8)


def test_views_mirror_and_shift_the_crop():
    x = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    assert (tta.hflip(x)[:, :, 0] == x[:, :, -1]).all()
    assert (tta.hflip(x[..., None])[..., 0] == tta.hflip(x)).all()  # [N, H, W, 1] too
    down = tta.shift(x, 1, 0)
    assert (down[:, 1:] == x[:, :-1]).all() and (down[:, 0] == x[:, 0]).all()  # edge kept
    right = tta.shift(x, 0, 2)
    assert (right[:, :, 2:] == x[:, :, :-2]).all() and right.shape == x.shape
    assert (tta.shift(x, 0, 0) == x).all()


def test_flip_tta_changes_an_asymmetric_model_and_is_the_mean_of_both_views():
    model, x = _model(symmetric=False), _images()
    predict = tta.keras_predict(model)
    plain = predict(x[..., None])
    flipped = predict(x[:, :, ::-1, None])
    assert not np.allclose(plain, flipped, atol=1e-4)
    got = tta.tta_predict(predict, x)
    np.testing.assert_allclose(got, (plain + flipped) / 2, atol=1e-6)
    assert not np.allclose(got, plain, atol=1e-4)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    logit = tta.tta_predict(predict, x, mode="logit")
    z = (np.log(plain) + np.log(flipped)) / 2
    np.testing.assert_allclose(logit, np.exp(z) / np.exp(z).sum(1, keepdims=True), atol=1e-5)


def test_flip_tta_leaves_a_flip_symmetric_model_alone():
    model, x = _model(symmetric=True), _images()
    predict = tta.keras_predict(model)
    plain = predict(x[..., None])
    np.testing.assert_allclose(tta.tta_predict(predict, x), plain, atol=1e-6)
    np.testing.assert_allclose(tta.tta_predict(predict, x, mode="logit"), plain, atol=1e-5)


def test_unknown_average_is_refused():
    with pytest.raises(ValueError, match="unknown TTA average"):
        tta.average([np.ones((1, 2)) / 2], "median")


def _record(seed: int, ck: float, fer: float, neutral: float) -> dict:
    def split(ck: float, fer: float, neutral: float) -> dict:
        return {
            "ckplus5": {"expressions": {"argmax_all": {"accuracy": ck, "macro_f1": ck}}},
            "ferplus": {
                "expressions": {"argmax_all": {"accuracy": fer, "macro_f1": fer}},
                "rest_rate": neutral,
            },
        }

    base = split(0.8, 0.45, 0.86)
    return {
        "seed": seed,
        "variants": {
            "as is": {"validation": base, "held_out": base},
            "flip, mean prob": {"validation": split(ck, fer, neutral), "held_out": base},
        },
    }


@pytest.mark.parametrize(
    ("records", "passes"),
    [
        # two seeds raise both figures and keep the neutral rate: passes
        ([(0.82, 0.46, 0.86), (0.85, 0.47, 0.90), (0.70, 0.40, 0.86)], True),
        # a tie on CK+ accuracy is no raise
        ([(0.80, 0.46, 0.86), (0.85, 0.47, 0.90), (0.70, 0.40, 0.86)], False),
        # the neutral rate fell below 0.85 on one of the two
        ([(0.82, 0.46, 0.84), (0.85, 0.47, 0.90), (0.70, 0.40, 0.86)], False),
        # FER+ up on two, CK+ up on two, but not on the same two seeds
        ([(0.82, 0.44, 0.86), (0.85, 0.47, 0.90), (0.79, 0.46, 0.86)], False),
    ],
)
def test_the_rule_needs_two_seeds_with_both_raises_and_the_neutral_floor(records, passes):
    rs = [_record(i, *r) for i, r in enumerate(records)]
    decision = tta.decide(rs, ["as is", "flip, mean prob"])
    assert decision["passes"] is passes
    assert decision["candidate"] == ("flip, mean prob" if passes else None)
    assert decision["rule"] == tta.RULE


def test_the_card_keeps_validation_and_held_out_apart():
    rs = [_record(i, 0.82, 0.46, 0.86) for i in range(3)]
    for r in rs:  # held-out figures differ from validation ones, so a mix-up would show
        r["variants"]["flip, mean prob"]["held_out"] = copy.deepcopy(
            r["variants"]["as is"]["held_out"]
        )
        r["variants"]["flip, mean prob"]["held_out"]["ferplus"]["rest_rate"] = 0.5
    report = {"runs": rs, "decision": tta.decide(rs, ["as is", "flip, mean prob"]), "ensemble": {}}
    text = "\n".join(tta.render(report))
    val, held = text.split("Held-out sets")
    assert "| FER+ neutral rate | 0.860 ± 0.000 | 0.860 ± 0.000 |" in val
    assert "| FER+ neutral rate | 0.860 ± 0.000 | 0.500 ± 0.000 |" in held
    assert "Verdict: passes with `flip, mean prob`" in text


@pytest.mark.skipif(not (RESULTS / "tta.json").is_file(), reason="no docs/results/tta.json")
def test_stored_report_matches_the_records_and_its_own_rule():
    report = json.loads((RESULTS / "tta.json").read_text())
    variants = list(report["runs"][0]["variants"])
    assert report["decision"] == tta.decide(report["runs"], variants)  # verdict not hand-made
    for run in report["runs"]:
        record = json.loads((RESULTS / f"micro-cnn-v4-s{run['seed']}.json").read_text())
        as_is = run["variants"]["as is"]
        for dataset, figures in record["held_out"].items():  # the baseline is the shipped v4
            got = as_is["held_out"][dataset]
            assert got["accuracy"] == pytest.approx(figures["accuracy"], abs=1e-6)
            assert got["rest_rate"] == pytest.approx(figures["rest_rate"], abs=1e-6)
            for kind in ("argmax_all", "restricted"):
                assert got["expressions"][kind] == pytest.approx(figures["expressions"][kind])
        for dataset, figures in record["validation"].items():
            assert as_is["validation"][dataset]["macro_f1"] == pytest.approx(figures["macro_f1"])


@pytest.mark.slow  # trains and exports a tiny run (~7 s)
def test_a_saved_run_as_is_gives_its_own_evaluation(tiny_run_config, tmp_path):
    """End to end on a tiny calibrated run (synthetic faces, no ../shared): the tool rebuilds
    the run's splits, and its "as is" figures are the run's own held-out evaluation."""
    from training import pipeline

    config = tiny_run_config(calibration="temperature-rest", rest_min_recall=0.5)
    data = Path(config.data)
    run_dir = pipeline.save_run(pipeline.run(config), tmp_path / "run")
    report = tta.evaluate_runs([run_dir], ["as is", "flip, mean prob", "flip, mean prob, refit"])
    own = json.loads((run_dir / f"evaluation-{data.name}.json").read_text())
    got = report["runs"][0]["variants"]["as is"]["held_out"][data.name]
    assert got["accuracy"] == pytest.approx(own["accuracy"])
    assert got["rest_rate"] == pytest.approx(own["rest_rate"])
    assert report["runs"][0]["variants"]["flip, mean prob, refit"]["calibration"]["refit"]
    assert report["decision"]["passes"] is False  # no CK+ / FER+ sets: the rule cannot pass


def test_cli_wires_tta_eval_and_a_missing_run_is_a_clear_error(tmp_path, capsys):
    from training.cli import main, parser

    args = parser().parse_args(["tta-eval", "--run", "a", "--run", "b"])
    assert args.run == ["a", "b"] and args.out == "docs/results/tta.json"
    out = tmp_path / "tta.json"
    assert main(["tta-eval", "--run", str(tmp_path / "nope"), "--out", str(out)]) == 2
    assert "is not a training run" in capsys.readouterr().err and not out.exists()
