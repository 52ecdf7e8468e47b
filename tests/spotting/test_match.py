"""MEGC's matching rule on hand-made intervals (inclusive frame ranges)."""

from __future__ import annotations

import pytest

from training.spot_match import Interval, Tally, iou, match


def iv(a: int, b: int, label: str | None = None, kind: str | None = None) -> Interval:
    return Interval(a, b, label, kind)


def test_iou_inclusive_ranges():
    assert iou(iv(0, 9), iv(0, 9)) == 1.0
    assert iou(iv(0, 4), iv(4, 8)) == pytest.approx(1 / 9)  # one shared frame
    assert iou(iv(0, 4), iv(5, 9)) == 0.0  # touching: no shared frame
    assert iou(iv(0, 0), iv(0, 0)) == 1.0  # a one-frame event


def test_nested_interval_at_the_bound():
    assert iou(iv(0, 9), iv(2, 6)) == 0.5
    assert match([iv(0, 9)], [iv(2, 6)]) == [(0, 0)]  # IoU exactly 0.5 counts
    assert match([iv(0, 9)], [iv(3, 6)]) == []  # 0.4 does not


def test_touching_is_a_miss_and_a_false_alarm():
    t = Tally()
    t.add([iv(10, 14)], [iv(15, 19)])
    assert (t.tp, t.fp, t.fn) == (0, 1, 1)


def test_duplicate_detections_count_once():
    t = Tally()
    t.add([iv(10, 19)], [iv(10, 19), iv(11, 19), iv(10, 18)])
    assert (t.tp, t.fp, t.fn) == (1, 2, 0)


def test_one_detection_cannot_match_two_events():
    t = Tally()
    t.add([iv(0, 9), iv(2, 11)], [iv(1, 10)])
    assert (t.tp, t.fp, t.fn) == (1, 0, 1)


def test_greedy_by_iou_keeps_both_matches():
    # Spotted 0 overlaps both events; the better pairing matches each event to its own.
    truth = [iv(0, 9), iv(5, 14)]
    spotted = [iv(1, 10), iv(5, 14)]
    assert match(truth, spotted) == [(0, 0), (1, 1)]


def test_pooled_counts_labels_and_kinds():
    t = Tally()
    truth = [iv(0, 9, "anger", "micro"), iv(50, 99, "happiness", "macro")]
    spotted = [
        iv(0, 9, "anger", "micro"),
        iv(52, 99, "sadness", "macro"),
        iv(200, 210, "x", "micro"),
    ]
    t.add(truth, spotted)
    t.add([iv(0, 5, "disgust", "micro")], [])
    r = t.report()
    assert (r["tp"], r["fp"], r["fn"]) == (2, 1, 1)
    assert r["precision"] == pytest.approx(2 / 3) and r["recall"] == pytest.approx(2 / 3)
    assert r["f1"] == pytest.approx(2 / 3)
    assert r["label_accuracy"] == 0.5
    micro, macro = r["per_kind"]["micro"], r["per_kind"]["macro"]
    assert (micro["true"], micro["spotted"]) == (2, 2)
    assert micro["recall"] == 0.5 and micro["precision"] == 0.5
    assert macro["recall"] == 1.0 and macro["precision"] == 1.0


def test_empty_sets():
    t = Tally()
    t.add([], [])
    r = t.report()
    assert r["precision"] is None and r["recall"] is None and r["f1"] is None
    t.add([], [iv(0, 3)])
    assert t.report()["precision"] == 0.0 and t.report()["f1"] is None


def test_reversed_interval_rejected():
    with pytest.raises(ValueError):
        iv(5, 4)
