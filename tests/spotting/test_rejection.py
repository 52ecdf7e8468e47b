"""The rules that say a change is no expression (eyes only, the model's own jitter), the fit's
rule grid, the cheap descriptor crop and the hard-negative clips of the PROXY builder."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from service.faces import FaceBox, crop_face
from service.spotting.regions import BINS, CELLS, REGIONS, face_crop, histograms, lbp_codes
from service.spotting.spotter import SpotParams, rule_evidence, signals, verdict
from tools import spot_bench
from training import spot_fit
from training.spot_match import Interval

from .test_spotter import CLASSES, records, run

OPEN = SpotParams(min_prob_change=0.0, max_box_step=float("inf"), smooth_s=0.0)


def test_a_change_of_the_eyes_alone_is_no_expression() -> None:
    eyes = records(events=[(100, 110, 3)], moving=("eyes",))
    rule = replace(OPEN, min_face_motion=2.5)  # still cells: 0.7-1.5 x their median here
    assert len(run(eyes, params=OPEN)) == 1
    assert run(eyes, params=rule) == []
    mouth = records(events=[(100, 110, 3)], moving=("mouth",))
    assert len(run(mouth, params=rule)) == 1
    # A masked model sees brow and eyes only: the brow must move.
    assert run(eyes, regions=("brow", "eyes"), params=rule) == []


def _half_flash(jitter: bool) -> list:
    """A flash halfway to class 3 (dp 0.5 from a still rest); ``jitter``: on most other
    frames the model also puts 0.3 on a random other class (its usual dp about 0.15)."""
    eye = np.eye(len(CLASSES), dtype=np.float32)
    rng = np.random.default_rng(1)
    recs = records(events=[(100, 110, 3)])
    for r in recs:
        if 100 <= r.index <= 110:
            r.probs = 0.5 * eye[3] + 0.5 * eye[5]
        elif jitter and rng.random() < 0.8:
            r.probs = 0.7 * eye[5] + 0.3 * eye[int(rng.integers(5))]
        else:
            r.probs = eye[5].copy()
    return recs


def test_a_change_within_the_models_usual_jitter_is_dropped() -> None:
    rule = replace(OPEN, min_prob_excess=0.3, m_scale=1e9, p_scale=0.3, rel_height=0.8)
    assert len(run(_half_flash(jitter=False), params=rule)) == 1
    jittery = _half_flash(jitter=True)
    assert len(run(jittery, params=replace(rule, min_prob_excess=0.0))) == 1
    sig = signals(
        np.stack([r.probs for r in jittery]), np.stack([r.features for r in jittery]), 30.0,
        list(REGIONS), OPEN,
    )  # fmt: skip
    assert float(np.median(sig.jitter)) == pytest.approx(0.15, abs=0.02)  # its usual level
    assert run(jittery, params=rule) == []


def test_verdict_names_the_rule_and_zero_is_off() -> None:
    sig = signals(
        np.tile(np.eye(len(CLASSES), dtype=np.float32)[5], (60, 1)),
        np.tile(np.full(len(CELLS) * BINS, 1 / BINS, np.float32), (60, 1)), 30.0,
        list(REGIONS), OPEN,
    )  # fmt: skip
    ev = rule_evidence(sig, (20, 25, 30))
    assert verdict(ev, OPEN) is None
    assert verdict(ev, replace(OPEN, min_prob_change=0.1)) == "min_prob_change"
    assert verdict(ev, replace(OPEN, min_face_motion=1.5)) == "min_face_motion"
    assert verdict(ev, replace(OPEN, min_prob_excess=0.1)) == "min_prob_excess"


def test_the_fit_filters_candidates_by_the_rule_grid_like_the_spotter() -> None:
    data = [(records(events=[(100, 110, 3)], moving=("eyes",)), [Interval(100, 110, "happiness")]),
            (records(events=[(150, 160, 3)], moving=("eyes",), seed=2), [])]  # fmt: skip
    grid = {"min_prob_change": [0.0], "min_prob_excess": [0.0], "min_face_motion": [0.0, 2.5]}
    _, _, table = spot_fit.fit(
        data, CLASSES, "neutral", list(REGIONS), {"smooth_s": [0.0]},
        {"p_scale": [0.8], "m_scale": [4.0], "rel_height": [0.3]}, grid,
    )  # fmt: skip
    by_rule = {t[2].min_face_motion: t[3] for t in table}
    for rule, rep in by_rule.items():
        params = replace(table[0][2], min_face_motion=rule)
        assert rep == spot_fit.evaluate(data, CLASSES, "neutral", list(REGIONS), params)
    assert by_rule[0.0]["tp"] == 1 and by_rule[0.0]["fp"] == 1
    assert by_rule[2.5]["tp"] == 0 and by_rule[2.5]["fp"] == 0


BOXES = [FaceBox(200, 100, 300, 300, 1.0), FaceBox(-20, -10, 100, 120, 1.0),
         FaceBox(560, 380, 150, 150, 1.0), FaceBox(50, 50, 40, 40, 1.0)]  # fmt: skip


@pytest.mark.parametrize("box", BOXES)
def test_the_descriptor_crop_is_the_models_crop_within_a_grey_level(box: FaceBox) -> None:
    import cv2

    rng = np.random.default_rng(0)
    grey = cv2.GaussianBlur(rng.integers(0, 256, (480, 640), dtype=np.uint8), (0, 0), 1.5)
    ours = face_crop(grey, box).astype(np.float32)
    theirs = crop_face(grey, box, "full", ours.shape).astype(np.float32)
    assert np.abs(ours - theirs).mean() < 1.0


def test_histograms_are_the_cells_bincounts() -> None:
    codes = lbp_codes(np.random.default_rng(3).integers(0, 256, (64, 64), dtype=np.uint8))
    n = codes.shape[0]
    c0, c1, mid = round(0.1 * n), round(0.9 * n), n // 2
    want = []
    for name, side in CELLS:
        top, bottom = REGIONS[name]
        cols = slice(c0, mid) if side == "left" else slice(mid, c1)
        h = np.bincount(codes[round(top * n) : round(bottom * n), cols].ravel(), minlength=BINS)
        want.append(h / h.sum())
    np.testing.assert_allclose(histograms(codes), np.concatenate(want), rtol=1e-6)


def test_hard_negative_clips_have_no_event_and_change_where_their_nuisances_are() -> None:
    face = np.tile(np.linspace(60, 200, 48, dtype=np.float32), (48, 1))
    face[15:22, 8:20] = 30  # dark eyes
    face[15:22, 28:40] = 30
    shut = spot_bench.closed_eyes(face)
    assert shut[18, 14] > 60 and np.allclose(shut[35:], face[35:])  # only the eyes change
    moved = spot_bench.shifted_eyes(face, 1.5, 0.0)
    assert np.abs(moved - face)[13:24].sum() > 0 and np.allclose(moved[30:], face[30:])
    hand = spot_bench.random_hand(np.random.default_rng(0), face)
    assert hand.mask(1.0).sum() < hand.mask(0.0).sum()  # slid off the face, it covers less
    assert hand.mask(0.0)[36:44, 20:28].mean() > 0.9  # at rest over the mouth
    specs = [spot_bench.Spec(40, 50, 2, 2, "blink", "micro"),
             spot_bench.Spec(100, 140, 5, 5, "occluder", "macro")]  # fmt: skip
    frames = spot_bench.nuisance_frames(face.astype(np.uint8), specs, 160, seed=0)
    still = [i for i in range(160) if not (40 <= i <= 50 or 100 <= i <= 140)]
    assert all(np.array_equal(frames[i], frames[0]) for i in still)
    assert not np.array_equal(frames[45], frames[0])
    assert not np.array_equal(frames[120], frames[0])


def test_a_covered_region_is_no_expression() -> None:
    recs = records(events=[(100, 110, 3)], moving=("mouth",))
    mouth = [i for i, (name, _) in enumerate(CELLS) if name == "mouth"]
    for r in recs:  # each cell's grey-level spread; a hand flattens the mouth in the event
        spread = np.full(len(CELLS), 40.0, np.float32)
        if 100 <= r.index <= 110:
            spread[mouth] = 12.0
        r.features = np.concatenate([r.features, spread])
    assert len(run(recs, params=OPEN)) == 1
    assert run(recs, params=replace(OPEN, min_contrast=0.5)) == []
    assert len(run(recs, params=replace(OPEN, min_contrast=0.25))) == 1


def test_the_report_counts_hard_negatives_apart() -> None:
    from training.spot_report import figures, negatives

    ok = {"true": 4, "tp": 4, "spotted": 4, "label_ok": 4, "micro_true": 3, "micro_tp": 3}
    rows = [{"clip": "a", "duration_s": 10.0, **ok},
            {"clip": "a_neg0", "duration_s": 10.0, "true": 0, "tp": 0, "spotted": 2,
             "label_ok": 0, "micro_true": 0, "micro_tp": 0}]  # fmt: skip
    assert negatives(rows) == {"clips": 1, "seconds": 10.0, "events": 2, "events_per_min": 12.0}
    assert negatives(rows[:1]) is None
    assert figures(rows[:1], n=10)["f1"]["value"] == 1.0
    assert figures(rows, n=10)["f1"]["value"] == pytest.approx(8 / 10)


def test_contrasts_are_the_cells_grey_level_spread() -> None:
    from service.spotting.regions import contrasts

    crop = np.random.default_rng(4).integers(0, 256, (64, 64), dtype=np.uint8)
    inner = crop[1:-1, 1:-1].astype(np.float64)
    n = inner.shape[0]
    c0, c1, mid = round(0.1 * n), round(0.9 * n), n // 2
    want = []
    for name, side in CELLS:
        top, bottom = REGIONS[name]
        cols = slice(c0, mid) if side == "left" else slice(mid, c1)
        want.append(inner[round(top * n) : round(bottom * n), cols].std())
    np.testing.assert_allclose(contrasts(crop), want, rtol=1e-4)


def test_lbp_codes_are_the_riu2_codes_of_the_eight_comparisons() -> None:
    from service.spotting.regions import _OFFSETS, _RIU2

    rng = np.random.default_rng(5)
    for img in (rng.integers(0, 256, (30, 40), dtype=np.uint8),
                np.clip(rng.normal(100, 2, (30, 40)), 0, 255).astype(np.uint8)):  # fmt: skip
        h, w = img.shape
        centre = img[1:-1, 1:-1]
        code = np.zeros(centre.shape, np.uint8)
        for k, (dy, dx) in enumerate(_OFFSETS):
            code |= (img[dy : dy + h - 2, dx : dx + w - 2] >= centre).astype(np.uint8) << k
        np.testing.assert_array_equal(lbp_codes(img), _RIU2[code])


def test_records_with_and_without_contrast_still_spot() -> None:
    # A job checkpointed by a version whose descriptors had no contrast, resumed by this one.
    recs = records(events=[(100, 110, 3)])
    for r in recs[150:]:
        r.features = np.concatenate([r.features, np.full(len(CELLS), 40.0, np.float32)])
    assert len(run(recs, params=replace(OPEN, min_contrast=0.5))) == 1
