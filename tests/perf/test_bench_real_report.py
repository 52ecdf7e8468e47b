"""bench/real.py's recall reference (faces two detectors agree on) and the report's rows for
it and for fer timed on the same frames, on the committed run's numbers plus the new fields."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bench import report
from bench.real import confirmed_faces
from service.faces import FaceBox

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_confirmed_faces_counts_only_faces_both_detectors_see() -> None:
    face = FaceBox(100, 100, 80, 80, 0.9)
    near = FaceBox(105, 98, 84, 84, 0.8)  # the same face, BlazeFace's box
    title = FaceBox(600, 300, 60, 60, 0.1)  # Haar alone (a false positive)
    haar = [face, face, title, None, face]
    blaze = [near, near, None, near, near]
    tracked = [near, None, None, near, FaceBox(400, 100, 80, 80, 0.9)]  # misses 1, 1 elsewhere
    c = confirmed_faces(haar, blaze, tracked)
    assert c == {"frames": 3, "haar": 3, "tracker": 1, "haar_only": 1, "blazeface_only": 1}


@pytest.fixture
def run() -> dict:
    path = DOCS / "benchmarks-real.json"
    if not path.exists():
        pytest.skip("no recorded-clip report committed")
    return json.loads(path.read_text())


def _without_new_fields(r: dict) -> dict:
    """The run as the report's previous version wrote it (no confirmed faces, no fer-frames
    timing, no structure table), whichever version the committed run is."""
    r = copy.deepcopy(r)
    for d in r["real"]["detection"].values():
        d.pop("confirmed", None)
    for e in r["real"]["e2e"].values():
        e.pop("prefix", None)
    r["real"].pop("structure", None)
    return r


def _with_new_fields(r: dict) -> dict:
    r = _without_new_fields(r)
    for d in r["real"]["detection"].values():
        n = d["found"]["haar_confident"]
        d["confirmed"] = {"frames": n, "haar": n, "tracker": n, "haar_only": 0,
                          "blazeface_only": 0, "haar_unconfirmed": []}  # fmt: skip
    for e in r["real"]["e2e"].values():
        if e["interval"] == 0:
            seconds = e["seconds"]["median"] / 10  # 10x our whole-clip rate on 96 frames
            e["prefix"] = {"frames": 96, "seconds": {**e["seconds"], "median": seconds}}
    s = {"median": 0.2, "min": 0.19, "max": 0.21, "spread": 0.1, "n": 3, "values": [0.2] * 3}
    r["real"]["structure"] = {
        "single_face.mp4@0": {"decode": s, "worker": s, "thread": s,
                              "cpu": {"worker": s, "thread": s}},
    }  # fmt: skip
    return r


def test_new_rows_replace_the_raw_haar_and_whole_clip_fer_targets(run, tmp_path) -> None:
    old = report.real_targets(_without_new_fields(run)["real"])
    r = _with_new_fields(run)
    rows = report.real_targets(r["real"])
    targets = [t for t in rows if not t.get("info")]
    info = [t for t in rows if t.get("info")]
    assert len(targets) == len(old)  # one target row replaced by one, per clip
    assert not any(t["target"].startswith("real: recall ≥ full-res Haar (") for t in targets)
    recall = [t for t in targets if "on confirmed faces" in t["target"]]
    assert len(recall) == len(r["real"]["detection"]) and all(t["met"] for t in recall)
    raw = [t for t in info if t["target"].startswith("real: frames with a face, raw")]
    assert len(raw) == len(recall)
    same = [t for t in targets if "the same first frames" in t["target"]]
    assert same and all(t["workload"].endswith("@0") for t in same)
    for t in same:
        e = r["real"]["e2e"][t["workload"]]
        ours = 96 / e["prefix"]["seconds"]["median"]
        fer = next(c for k, c in r["real"]["peer"]["clips"].items()
                   if k == f"{e['clip']}@1")  # fmt: skip
        ratio = ours / (fer["analysed"] / fer["median_s"])
        assert t["value"] == f"{ratio:.1f} x" and t["met"] == (ratio >= 10)
    r["targets"] = rows
    out = tmp_path / "real.md"
    report.write_real(r, out)
    text = out.read_text()
    met = sum(t["met"] for t in targets)
    assert f"## Targets ({met} of {len(targets)} met)" in text
    assert "not a target" in text and "vs fer, same frames" in text
    assert "images/haar-unconfirmed.jpg" in text
    assert "| single_face.mp4@0 |" in text.split("Pipeline structure")[1]


def test_stored_variants_get_ratio_and_label_rows(run) -> None:
    from bench.report_real import real_sections

    r = copy.deepcopy(run)
    s = {"median": 1.0, "min": 0.9, "max": 1.1, "spread": 0.2, "n": 5, "values": [1.0] * 5}
    slow = {**s, "median": 2.5}
    r["real"]["stored"] = {
        "phone@0": {"variant": "phone", "interval": 0.0, "stored": "HEVC Main 10", "bytes": 6e5,
                    "shown": [640, 360], "seconds": slow, "decode": s, "frames": [472, 472],
                    "same_label": 0.99, "iou_median": 0.97, "faces": 472,
                    "reference_faces": 472},
        "camcorder@0.5": {"variant": "camcorder", "interval": 0.5, "stored": "4:3 pixels",
                          "bytes": 1e6, "shown": [480, 270], "seconds": s, "decode": s,
                          "frames": [40, 40], "same_label": 0.9, "iou_median": None,
                          "faces": 0, "reference_faces": 40},
    }  # fmt: skip
    before = report.real_targets({k: v for k, v in run["real"].items() if k != "stored"})
    rows = [t for t in report.real_targets(r["real"]) if t["target"].startswith("real, as a")]
    assert len(rows) == 4 and len(report.real_targets(r["real"])) == len(before) + 4
    assert [(t["workload"], t["value"], t["met"], t["bar"]) for t in rows] == [
        ("phone@0", "2.50 x", False, True),
        ("phone@0", "0.990", True, True),
        ("camcorder@0.5", "1.00 x", True, True),
        ("camcorder@0.5", "0.900", False, False),
    ]
    text = "\n".join(real_sections(r["real"]))
    assert "### The recorded clip as devices store it" in text
    assert "| phone@0 | HEVC Main 10 | 0.60 MB | 640x360 |" in text


def test_stored_agreement_maps_boxes_into_the_recorded_frame() -> None:
    from bench.stored import _agreement

    face = {"x": 100, "y": 40, "w": 80, "h": 80, "score": 0.9}
    small = {k: (v * 0.75 if k in "xywh" else v) for k, v in face.items()}
    reference = {"frames": [{"label": "happiness", "face": face}] * 3}
    answer = {"frames": [{"label": "happiness", "face": small}] * 2
              + [{"label": "neutral", "face": None}]}  # fmt: skip
    got = _agreement(answer, reference, 0.75)
    assert got["same_label"] == 2 / 3 and got["iou_median"] == 1.0
    assert (got["faces"], got["reference_faces"], got["frames"]) == (2, 3, [3, 3])
