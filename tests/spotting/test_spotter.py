"""The spotter on synthetic per-frame records: one change, its onset/apex/offset and label."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from service.faces import FaceBox
from service.spotting import Spotter, analysis_for
from service.spotting.regions import BINS, CELLS, DIM, LBP_DIM, lbp_codes, region_features
from service.spotting.spotter import SpotParams, peaks, prepare, rolling_median, smooth, spot

CLASSES = ["anger", "contempt", "disgust", "happiness", "sadness", "neutral"]
BOX = FaceBox(0, 0, 64, 64, 1.0)


@dataclass
class Rec:
    index: int
    timestamp_s: float
    box: FaceBox | None
    probs: np.ndarray | None
    features: np.ndarray | None


def records(n=300, fps=30.0, events=(), rest=5, seed=0, noise=0.02, gaps=(), moving=("mouth",)):
    """``n`` frames resting on class ``rest``; ``events`` = (onset, offset, class) flashes in
    which the LBP histograms of the ``moving`` regions' cells change too."""
    rng = np.random.default_rng(seed)
    cells = len(CELLS)
    hist = rng.dirichlet(np.full(BINS, 5.0), cells).astype(np.float32)
    other = rng.dirichlet(np.full(BINS, 5.0), cells).astype(np.float32)
    mouth = [i for i, (name, _) in enumerate(CELLS) if name in moving]
    out = []
    for i in range(n):
        p = np.full(len(CLASSES), 0.02, np.float32)
        p[rest] = 1.0
        h = hist.copy()
        for a, b, k in events:
            if a <= i <= b:
                p[:] = 0.02
                p[k] = 1.0
                h[mouth] = other[mouth]
        h = h * rng.uniform(0.95, 1.05, h.shape).astype(np.float32)
        h /= h.sum(axis=1, keepdims=True)
        f = h.ravel()
        p += rng.uniform(0, noise, len(p)).astype(np.float32)
        p /= p.sum()
        face = not any(a <= i <= b for a, b in gaps)
        out.append(Rec(i, i / fps, BOX if face else None, p if face else None, f if face else None))
    return out


def run(recs, rest="neutral", regions=("brow", "eyes", "mouth"), params=None):
    return spot(recs, CLASSES, rest, list(regions), params or SpotParams())


def test_a_brief_flash_is_one_micro_event():
    events = run(records(events=[(100, 107, 3)]))
    assert len(events) == 1
    e = events[0]
    assert e.kind == "micro" and e.label == "happiness"
    assert abs(e.onset_index - 100) <= 1 and abs(e.offset_index - 107) <= 1
    assert 100 <= e.apex_index <= 107
    assert e.onset_s == pytest.approx(e.onset_index / 30)
    assert e.evidence.baseline_label == "neutral"
    assert e.evidence.probability_change > 0.5
    assert e.evidence.motion["mouth"] > e.evidence.motion["brow"]
    assert e.confidence > 0.5


def test_a_long_change_is_macro_and_a_still_face_has_none():
    events = run(records(events=[(100, 139, 0)]))
    assert [(e.kind, e.label) for e in events] == [("macro", "anger")]
    assert run(records()) == []


def test_the_rest_class_is_never_an_event_label():
    # The person rests on happiness and briefly goes neutral (the rest class): the label is
    # the non-rest class that rose most, never "neutral".
    events = run(records(rest=3, events=[(100, 107, 5)]))
    assert all(e.label != "neutral" for e in events)


def test_without_a_rest_class_the_baseline_dominant_class_is_the_rest():
    events = run(records(rest=4, events=[(60, 68, 2), (200, 230, 1)]), rest=None)
    assert [(e.kind, e.label) for e in events] == [("micro", "disgust"), ("macro", "contempt")]
    assert all(e.evidence.baseline_label == "sadness" for e in events)


def test_a_missing_face_splits_the_runs_and_short_runs_are_skipped():
    recs = records(n=300, events=[(250, 257, 3)], gaps=[(20, 200)])
    events = run(recs)
    assert len(events) == 1 and events[0].onset_index >= 201
    assert run(records(n=20)) == []  # under min_run_s: no baseline


def test_masked_regions_ignore_the_mouth():
    recs = records(events=[(100, 107, 0)], moving=("brow", "mouth"))
    events = run(recs, regions=("brow", "eyes"))
    assert len(events) == 1 and set(events[0].evidence.motion) == {"brow", "eyes"}
    assert events[0].evidence.region == "brow"
    # Only the mouth moves: the probabilities alone (change < p_scale) do not make an event.
    only_mouth = records(events=[(100, 107, 0)])
    assert run(only_mouth, regions=("brow", "eyes"), params=SpotParams(p_scale=1.0)) == []


def test_finish_only_for_every_frame_video():
    card = SimpleNamespace(classes=CLASSES, rest_class="neutral", face_region="full")
    model = SimpleNamespace(card=card)
    video = SimpleNamespace(kind="video")
    recs = records(events=[(100, 107, 3)])
    s = Spotter()
    assert len(s.finish(recs, model, video, SimpleNamespace(sample_interval=0))) == 1
    assert s.finish(recs, model, video, SimpleNamespace(sample_interval=0.5)) is None
    assert s.finish(recs[:1], model, SimpleNamespace(kind="image"),
                    SimpleNamespace(sample_interval=0)) is None  # fmt: skip
    assert analysis_for(model, SimpleNamespace(sample_interval=0)) is not None
    assert analysis_for(model, SimpleNamespace(sample_interval=0.5)) is None


def test_peaks_hysteresis_and_merging():
    p = SpotParams(threshold=1.0, rel_height=0.5, min_frames=1)
    s = np.array([0, 0.2, 0.6, 1.5, 2.0, 0.9, 0.4, 0, 0, 1.2, 0], float)
    assert peaks(s, p) == [(3, 4, 4), (9, 9, 9)]  # half of 2.0 = 1.0: 0.9 and 0.6 are out
    # A span widened over a higher peak takes that peak as its apex.
    s2 = np.array([0, 1.2, 0.8, 2.0, 0], float)
    assert peaks(s2, p) == [(1, 3, 3)]
    assert peaks(s, SpotParams(min_frames=2, rel_height=0.5)) == [(3, 4, 4)]


def test_rolling_median_and_smooth_match_naive():
    x = np.random.default_rng(1).normal(size=(50, 3)).astype(np.float32)
    got = rolling_median(x, 4, 1, block=37)  # blocks smaller than the array
    idx = [np.arange(s, s + 9) for s in np.clip(np.arange(50) - 4, 0, 41)]  # shifted inside
    naive = np.array([np.median(x[i], axis=0) for i in idx])
    np.testing.assert_allclose(got, naive, rtol=1e-6)
    # With step 2: every other row (and the last) sampled, knots interpolated between.
    strided = rolling_median(x, 4, 2)
    knot = np.median(x[np.arange(0, 9, 2)], axis=0)
    np.testing.assert_allclose(strided[0], knot, rtol=1e-6)
    np.testing.assert_allclose(strided[1], (strided[0] + strided[2]) / 2, rtol=1e-5)
    # A run shorter than the window: the median of the whole run on every row (not a window
    # padded with copies of the last row).
    short = np.concatenate([np.zeros((7, 3)), np.ones((3, 3))]).astype(np.float32)
    for step in (1, 2):
        np.testing.assert_array_equal(rolling_median(short, 8, step), np.zeros((10, 3)))
    s = smooth(x, 3)
    np.testing.assert_allclose(s[10], x[9:12].mean(axis=0), rtol=1e-5)
    assert smooth(x, 1) is x


def test_region_features():
    flat = np.full((20, 20), 100, np.uint8)
    assert (lbp_codes(flat) == 8).all()  # every neighbour >= centre
    spot_img = flat.copy()
    spot_img[10, 10] = 200
    assert lbp_codes(spot_img)[9, 9] == 0  # no neighbour >= a bright centre
    grey = np.random.default_rng(0).integers(0, 256, (120, 160), dtype=np.uint8)
    f = region_features(grey, FaceBox(30, 20, 80, 80, 1.0))
    assert f.shape == (DIM,) and f.dtype == np.float32
    hist = f[:LBP_DIM].reshape(len(CELLS), BINS)
    np.testing.assert_allclose(hist.sum(axis=1), 1.0, rtol=1e-5)
    assert (f[LBP_DIM:] > 30).all()  # noise: each cell has a grey-level spread (contrast)
    flat_f = region_features(np.full((120, 160), 90, np.uint8), FaceBox(30, 20, 80, 80, 1.0))
    assert flat_f is not None and (flat_f[LBP_DIM:] == 0).all()  # a flat (covered) cell: 0
    assert region_features(grey, None) is None


def test_a_change_still_going_at_the_end_is_not_an_event():
    assert run(records(n=300, events=[(280, 299, 3)])) == []
    assert len(run(records(n=300, events=[(280, 290, 3)]))) == 1


def test_a_switch_to_another_face_splits_the_run():
    # Person A (resting neutral) until frame 149, then the tracker takes person B elsewhere in
    # the frame (resting sad), who flashes happiness: B is compared with B's resting face.
    a = records(n=150)
    b = records(n=150, rest=4, events=[(50, 57, 3)], seed=1)
    other = FaceBox(400, 10, 64, 64, 1.0)
    recs = a + [Rec(r.index + 150, r.timestamp_s + 5.0, other, r.probs, r.features) for r in b]
    runs = prepare(recs, ["brow", "eyes", "mouth"], SpotParams())
    assert [(int(r.positions[0]), int(r.positions[-1])) for r in runs] == [(0, 149), (150, 299)]
    events = run(recs)
    assert [(e.label, e.evidence.baseline_label) for e in events] == [("happiness", "sadness")]
    assert abs(events[0].onset_index - 200) <= 1
    # one face moving a little each frame stays one run
    drift = [Rec(r.index, r.timestamp_s, FaceBox(r.index, 0, 64, 64, 1.0), r.probs, r.features)
             for r in records(n=150)]  # fmt: skip
    assert len(prepare(drift, ["brow", "eyes", "mouth"], SpotParams())) == 1


def test_a_video_without_any_face_has_no_events():
    recs = records(n=120, gaps=[(0, 119)])
    assert prepare(recs, ["brow", "eyes", "mouth"], SpotParams()) == []
    assert run(recs) == []
