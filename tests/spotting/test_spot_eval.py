"""spot-eval's scoring: labelled clips pooled, unlabelled ones as events per minute; the
ground-truth JSON format; and spot_fit's grid search picks the setting that scores best."""

from __future__ import annotations

import json

from training import spot_eval, spot_fit
from training.spot_match import Interval

from .test_spotter import CLASSES, records


def test_score_pools_labelled_clips_and_rates_the_others() -> None:
    a = [Interval(10, 19, "anger", "micro")]
    report = spot_eval.score(
        [
            ("a.mp4", a, [Interval(10, 18, "anger", "micro")], 10.0),
            ("b.mp4", [Interval(5, 60, "sadness", "macro")], [], 10.0),
            ("real.mp4", None, [Interval(0, 5), Interval(100, 130)], 30.0),
        ]
    )
    lab = report["labelled"]
    assert (lab["tp"], lab["fp"], lab["fn"]) == (1, 0, 1) and lab["label_accuracy"] == 1.0
    assert report["unlabelled"]["events_per_min"] == 4.0
    assert "per minute" in spot_eval.render(report)


def test_truth_json_and_clip_listing(tmp_path) -> None:
    (tmp_path / "x.mp4").write_bytes(b"")
    (tmp_path / "y.mov").write_bytes(b"")
    doc = {"fps": 30, "frames": 90, "events": [
        {"onset_frame": 3, "apex_frame": 5, "offset_frame": 9, "label": "anger", "kind": "micro"}
    ]}  # fmt: skip
    (tmp_path / "x.json").write_text(json.dumps(doc))
    assert [p.name for p in spot_eval.clips(tmp_path)] == ["x.mp4", "y.mov"]
    assert spot_eval.truth_of(tmp_path / "x.mp4") == [Interval(3, 9, "anger", "micro")]
    assert spot_eval.truth_of(tmp_path / "y.mov") is None


def test_fit_prefers_the_setting_that_finds_the_events() -> None:
    recs = records(events=[(100, 107, 3), (200, 240, 0)])
    truth = [Interval(100, 107, "happiness", "micro"), Interval(200, 240, "anger", "macro")]
    params, report, table = spot_fit.fit(
        [(recs, truth)], CLASSES, "neutral", ["brow", "eyes", "mouth"],
        signal_grid={"smooth_s": [0.0]},
        peak_grid={"p_scale": [0.8, 50.0], "m_scale": [1e9], "rel_height": [0.3]},
    )  # fmt: skip
    assert params.p_scale == 0.8 and report["f1"] == 1.0 and report["label_accuracy"] == 1.0
    assert table[-1][0] == 0.0  # p_scale 50 with no motion term finds nothing
