"""The refit's pieces: the committed thresholds file (per model, a default), the two rules
that drop what the model cannot name (texture alone) or the crop made (a box re-snap), the
fit's file writer, the report's bootstrap figures and the masked PROXY's composite face."""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from service.faces import FaceBox
from service.spotting.params import PARAMS_FILE, entry_for, fitted_params, params_from
from service.spotting.spotter import SpotParams, box_steps
from tools import spot_bench
from training import spot_fit, spot_report
from training.spot_match import Interval, Tally, match

from .test_spotter import records, run

OPEN = SpotParams(min_prob_change=0.0, max_box_step=float("inf"), smooth_s=0.0)


def test_the_committed_file_has_a_default_and_every_entry_loads() -> None:
    doc = json.loads(PARAMS_FILE.read_text())
    assert doc["default"] in doc["models"]
    for name, entry in doc["models"].items():
        assert params_from(entry) == fitted_params(name)
        assert entry["fitted"]["model"]["name"] == name
    assert fitted_params("a-model-never-fitted") == fitted_params(doc["default"])


def test_entries_fall_back_to_the_default_and_unknown_fields_fail() -> None:
    doc = {"default": "a", "models": {"a": {"params": {"p_scale": 0.5}}, "b": {"params": {}}}}
    assert params_from(entry_for(doc, "c")).p_scale == 0.5
    assert params_from(entry_for(doc, "b")) == SpotParams()
    with pytest.raises(ValueError, match="unknown spotting parameter"):
        params_from({"params": {"no_such": 1}})
    with pytest.raises(ValueError, match="no default"):
        entry_for({"default": "x", "models": {}}, None)


def test_texture_alone_is_no_event_when_the_probabilities_must_agree() -> None:
    # Class 5 is the rest class: the probabilities stay put, only the mouth texture changes.
    recs = records(events=[(100, 130, 5)])
    events = run(recs, params=OPEN)
    assert len(events) == 1 and events[0].evidence.signal == "motion"
    assert run(recs, params=replace(OPEN, min_prob_change=0.1)) == []


def _resnapped(jump: bool):
    """A flash whose onset and first frame after the offset see the face box jump 10 px."""
    recs = records(events=[(100, 107, 3)])
    for r in recs:
        if r.box is not None and jump and 100 <= r.index <= 107:
            r.box = FaceBox(10, 0, 64, 64, 1.0)
    return recs


def test_a_change_bracketed_by_box_resnaps_is_the_crop() -> None:
    rule = replace(OPEN, max_box_step=0.05)
    assert len(run(_resnapped(jump=True), params=OPEN)) == 1
    assert run(_resnapped(jump=True), params=rule) == []
    assert len(run(_resnapped(jump=False), params=rule)) == 1


def test_box_steps() -> None:
    boxes = [FaceBox(0, 0, 100, 100, 1.0), FaceBox(5, 0, 100, 100, 1.0),
             FaceBox(5, 0, 110, 100, 1.0), object()]  # fmt: skip
    # centre moved 5 px; then the width grew 10 px (centre +5 in x): 0.05, (5 + 10) / 110.
    assert box_steps(boxes) == pytest.approx([0, 0.05, 15 / 110, 0])


def test_write_entry_keeps_other_models_and_the_first_default(tmp_path) -> None:
    path = tmp_path / "params.json"
    spot_fit.write_entry(path, "micro-cnn", {"params": {"p_scale": 0.8}})
    spot_fit.write_entry(path, "masked-cnn", {"params": {"p_scale": 0.4}})
    spot_fit.write_entry(path, "micro-cnn", {"params": {"p_scale": 0.6}})
    doc = json.loads(path.read_text())
    assert doc["default"] == "micro-cnn" and set(doc["models"]) == {"micro-cnn", "masked-cnn"}
    assert fitted_params("masked-cnn", path).p_scale == 0.4
    assert fitted_params("other", path).p_scale == 0.6


def test_report_figures_pool_like_the_tally_with_an_interval() -> None:
    rows, tally = [], Tally()
    rng = np.random.default_rng(1)
    for c in range(12):
        truth = [Interval(10 * k, 10 * k + 5, "a", "micro") for k in range(4)]
        spotted = [Interval(10 * k + int(rng.integers(0, 5)), 10 * k + 5, "a" if k else "b",
                            "micro") for k in range(3)]  # fmt: skip
        tally.add(truth, spotted)
        pairs = match(truth, spotted)
        rows.append({"clip": str(c), "tp": len(pairs), "spotted": 3, "true": 4,
                     "label_ok": sum(truth[i].label == spotted[j].label for i, j in pairs),
                     "micro_tp": len(pairs), "micro_true": 4})  # fmt: skip
    f = spot_report.figures(rows, n=500)
    ref = tally.report()
    for key in ("precision", "recall", "f1", "label_accuracy"):
        assert f[key]["value"] == pytest.approx(ref[key], abs=1e-4)
        lo, hi = f[key]["ci95"]
        assert lo <= f[key]["value"] <= hi
    assert (f["tp"], f["fp"], f["fn"]) == (ref["tp"], ref["fp"], ref["fn"])
    assert "| x |" in spot_report._row("x", f)


def test_masked_composite_keeps_the_smile_below_the_upper_face(tmp_path) -> None:
    yy, xx = np.mgrid[0:48, 0:48]
    smile = (120 + 60 * np.sin(xx / 3.0) * np.cos(yy / 5.0)).astype(np.uint8)
    angry = (255 - smile).astype(np.uint8)
    for cls, img in (("happiness", smile), ("anger", angry)):
        cv2.imwrite(str(tmp_path / f"{cls}.png"), img)
    rest, faces = spot_bench.masked_faces(
        {"happiness": [tmp_path / "happiness.png"], "anger": [tmp_path / "anger.png"]}
    )
    assert set(faces) == {"happy_but_angry"} and np.array_equal(rest, smile)
    face = faces["happy_but_angry"]
    from model_artifact.regions import region_rows

    _, cut = region_rows(48, "upper")
    assert np.array_equal(face[cut:], smile[cut:])  # the mouth still smiles
    assert np.abs(face[:cut].astype(int) - smile[:cut]).mean() > 30  # the eyes do not
