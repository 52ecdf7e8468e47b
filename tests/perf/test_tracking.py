"""FaceTracker (BlazeFace + optical flow) against full-resolution Haar and against BlazeFace on
every frame: recall, boxes, the search schedule, the bounded search rate without a face."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest

from service.faces import (
    FaceBox,
    FaceDetector,
    FaceTracker,
    blazeface_box,
    iou,
    shared_blazeface,
)
from service.faces.tracker import column_median, pick, spreads
from service.media import Frame, MediaLimits, open_media
from tools.facevideo import face_photo, face_video


def _frames(seconds: float, width: int, height: int, interval: float) -> list[Frame]:
    clip = face_video(seconds, 30, width, height)
    with open_media(io.BytesIO(clip), MediaLimits()) as media:
        return list(media.frames(interval))


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("size", "interval", "seconds"),
    [((854, 480), 0.0, 2.5), ((854, 480), 0.5, 4.0), ((1280, 720), 0.0, 1.0)],
    ids=["480p-dense", "480p-0.5s", "720p-dense"],
)
def test_tracker_keeps_recall_and_boxes_of_full_resolution_haar(
    detector, size, interval, seconds
) -> None:
    frames = _frames(seconds, *size, interval)
    tracker = FaceTracker(detector)
    tracked = [tracker.detect(f.image, f.timestamp_s) for f in frames]
    step = 1 if interval else 5  # full-res Haar on every 5th frame of the dense clips (cost)
    full = [detector.detect(f.image) for f in frames[::step]]
    assert all(b is not None for b in tracked) and all(b is not None for b in full)
    ious = [iou(a, b) for a, b in zip(full, tracked[::step], strict=True) if a and b]
    assert min(ious) > 0.6 and float(np.median(ious)) > 0.75
    scores = [b.score for b in tracked if b]
    assert float(np.median(scores)) > 0.7 and min(scores) > 0.2
    # Dense: most frames are followed by optical flow, a few confirmed by BlazeFace.
    if interval == 0:
        assert tracker.followed > 0.6 * len(frames)
        assert tracker.confirmed >= 1


def _canvas(x: int, y: int, side: int = 300, width: int = 854, height: int = 480) -> np.ndarray:
    grey = cv2.cvtColor(face_photo(), cv2.COLOR_RGB2GRAY)
    frame = np.full((height, width), 96, np.uint8)
    frame[y : y + side, x : x + side] = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA)
    return frame


def test_a_face_that_jumps_away_is_found_in_the_same_frame(detector) -> None:
    tracker = FaceTracker(detector, refresh_s=100.0)
    first = tracker.detect(_canvas(20, 100), 0.0)
    moved = tracker.detect(_canvas(530, 150), 1 / 30)
    expected = detector.detect(_canvas(530, 150))
    assert first is not None and moved is not None and expected is not None
    assert iou(moved, expected) > 0.6 and moved.x > 400


def test_without_a_face_the_search_rate_is_bounded(detector) -> None:
    tracker = FaceTracker(detector, search_every_s=0.2, haar_every_s=1.0)
    blank = np.full((480, 854), 128, np.uint8)
    assert all(tracker.detect(blank, i / 30) is None for i in range(60))  # 2 s at 30 fps
    assert tracker.full_searches == 10 and tracker.skipped == 50
    assert tracker.haar_searches == 2


def _big_face(x: int, y: int, side: int = 200) -> np.ndarray:
    """The astronaut's face alone, ``side`` px, on a plain 480p frame (BlazeFace sees it in
    the whole frame; the photo's 52 px face needs Haar)."""
    grey = cv2.cvtColor(face_photo(), cv2.COLOR_RGB2GRAY)[60:195, 165:290]
    frame = np.full((480, 854), 96, np.uint8)
    frame[y : y + side, x : x + side] = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA)
    return frame


@pytest.mark.parametrize(("face", "within_s"), [("big", 0.2), ("small", 1.0)])
def test_a_face_that_appears_is_found_within_the_search_interval(detector, face, within_s):
    tracker = FaceTracker(detector, search_every_s=0.2, haar_every_s=1.0)
    blank = np.full((480, 854), 96, np.uint8)
    frame = _big_face(300, 120) if face == "big" else _canvas(200, 100)
    for i in range(10):
        assert tracker.detect(blank, i / 30) is None
    found_at = next((i for i in range(10, 60) if tracker.detect(frame, i / 30)), None)
    assert found_at is not None and (found_at - 10) / 30 <= within_s


def test_a_face_after_a_cut_is_found_in_that_frame(detector) -> None:
    # A faceless title card (bright), then a cut to a scene with a face: searched at once,
    # not at the bounded rate; the still title card itself is not searched again.
    tracker = FaceTracker(detector, search_every_s=0.2, haar_every_s=1.0)
    title = np.full((480, 854), 220, np.uint8)
    assert all(tracker.detect(title, i / 30) is None for i in range(3))
    assert tracker.skipped == 2
    assert tracker.detect(_big_face(300, 120), 3 / 30) is not None


def test_refresh_switches_to_a_larger_new_face(detector) -> None:
    small = _big_face(20, 100, side=120)
    big = small.copy()
    big[100:400, 450:750] = _big_face(0, 0, side=300)[:300, :300]
    tracker = FaceTracker(detector, refresh_s=0.5)
    first = tracker.detect(small, 0.0)
    assert first is not None and first.x < 300
    boxes = [tracker.detect(big, i / 30) for i in range(1, 20)]
    assert boxes[-1] is not None and boxes[-1].x > 400


def _two_faces(left: int, right: int) -> np.ndarray:
    """Two people side by side, as a video call's tiles: the face ``left`` px wide on the
    left, ``right`` px on the right (the same photo: the tracker has no appearance model)."""
    frame = np.full((480, 960), 96, np.uint8)
    for x, side in ((40, left), (520, right)):
        frame[60 : 60 + side, x : x + side] = _big_face(0, 0, side=side)[:side, :side]
    return frame


def test_with_two_faces_of_about_one_size_the_tracked_one_is_kept(detector) -> None:
    # Their sizes swap by 10 % every second; before, each refresh took the larger one.
    frames = [_two_faces(220, 200), _two_faces(200, 220)]
    tracker = FaceTracker(detector, refresh_s=0.5)
    boxes = [tracker.detect(frames[(i // 30) % 2], i / 30) for i in range(120)]
    assert all(b is not None for b in boxes)
    assert all(b.x < 480 for b in boxes if b)  # the left face, found first, on every frame
    assert tracker.full_searches >= 6  # the refreshes ran


def test_with_two_faces_a_much_larger_one_takes_over(detector) -> None:
    tracker = FaceTracker(detector, refresh_s=0.5)
    first = tracker.detect(_two_faces(220, 160), 0.0)
    assert first is not None and first.x < 480
    closer = _two_faces(160, 300)  # the right one comes closer: 1.9x as wide
    boxes = [tracker.detect(closer, i / 30) for i in range(1, 30)]
    assert boxes[-1] is not None and boxes[-1].x > 480


def test_pick_keeps_the_tracked_face_unless_another_is_much_wider() -> None:
    tracked = FaceBox(100, 100, 200, 200, 0.9)
    same = FaceBox(105, 102, 198, 198, 0.9)
    other = FaceBox(600, 100, 230, 230, 0.9)  # 1.16x as wide
    assert pick([other, same], tracked) == same
    assert pick([other, same], None) == other  # nothing tracked: the largest
    assert pick([other], tracked) == other  # the tracked face gone: the largest
    wider = FaceBox(600, 100, 250, 250, 0.9)  # 1.26x as wide
    assert pick([wider, same], tracked) == wider
    assert pick([], tracked) is None


def test_boxes_are_in_haar_framing(detector) -> None:
    frame = _big_face(300, 120)
    haar = detector.detect(frame)
    found = shared_blazeface().detect_frame(frame)
    assert haar is not None and found
    assert iou(blazeface_box(found[0], 854, 480), haar) > 0.75


def test_tracker_rejects_bad_settings(detector) -> None:
    with pytest.raises(ValueError):
        FaceTracker(detector, confirm_s=-1)
    with pytest.raises(ValueError):
        FaceTracker(detector, roi=1.0)
    with pytest.raises(ValueError):
        FaceTracker(detector, flow_face_px=8)


def test_column_median_equals_numpys() -> None:
    # The flow's shift: up to 25 points (odd and even counts), ties and zeros, float32.
    rng = np.random.default_rng(1)
    for i in range(3000):
        n = int(rng.integers(1, 26))
        a = (rng.normal(size=(n, 2)) * rng.choice([0.01, 1.0, 30.0])).astype(np.float32)
        if i % 3 == 0:
            a = np.round(a, 1)  # ties, and zeros of both signs
        expected, got = np.median(a, axis=0), column_median(a)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)  # -0.0 == 0.0: the box is the same
    nan = np.array([[1.0, np.nan], [2.0, 3.0]], np.float32)
    np.testing.assert_array_equal(column_median(nan), np.median(nan, axis=0))


def test_spreads_equal_numpys_variance_sums() -> None:
    # The flow's scale change: the summed column variances of up to 25 float32 points, before
    # and after (side by side), each as numpy computes it alone.
    rng = np.random.default_rng(2)
    for i in range(3000):
        n = int(rng.integers(1, 26))
        ab = (rng.normal(size=(n, 4)) * rng.choice([0.01, 1.0, 30.0]) + 100).astype(np.float32)
        if i % 3 == 0:
            ab = np.round(ab, 1)
        a, b = ab[:, :2].copy(), ab[:, 2:].copy()
        assert spreads(ab) == (float(a.var(axis=0).sum()), float(b.var(axis=0).sum()))
