"""HaarTracker (the video tracker's Haar fallback) against full-resolution Haar on every frame."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest

from service.faces import FULL_SEARCH, WINDOW_SEARCH, FaceBox, FaceDetector
from service.faces import HaarTracker as FaceTracker
from service.media import Frame, MediaLimits, open_media
from tools.facevideo import face_photo, face_video

pytestmark = pytest.mark.slow  # `make test` runs it; `make test-fast` leaves it out


def _iou(a: FaceBox, b: FaceBox) -> float:
    iw = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    ih = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    return iw * ih / (a.w * a.h + b.w * b.h - iw * ih)


def _frames(seconds: float, width: int, height: int, interval: float) -> list[Frame]:
    clip = face_video(seconds, 30, width, height)
    with open_media(io.BytesIO(clip), MediaLimits()) as media:
        return list(media.frames(interval))


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.mark.parametrize(
    ("size", "interval", "seconds"),
    [((854, 480), 0.0, 2.0), ((854, 480), 0.5, 6.0), ((1280, 720), 0.0, 1.5)],
    ids=["480p-dense", "480p-0.5s", "720p-dense"],
)
def test_tracker_keeps_recall_and_boxes_of_full_resolution_haar(
    detector, size, interval, seconds
) -> None:
    frames = _frames(seconds, *size, interval)
    full = [detector.detect(f.image) for f in frames]
    tracker = FaceTracker(detector)
    tracked = [tracker.detect(f.image, f.timestamp_s) for f in frames]
    assert sum(b is not None for b in tracked) >= sum(b is not None for b in full) > 0
    ious = [_iou(a, b) for a, b in zip(full, tracked, strict=True) if a and b]
    assert min(ious) > 0.6 and float(np.median(ious)) > 0.75
    # Window-search boxes carry WINDOW_SEARCH's calibrated score: high on this clear face.
    scores = [b.score for b in tracked if b]
    assert float(np.median(scores)) > 0.7 and min(scores) > 0.2
    # Most frames are tracked: full searches only at the start and every refresh_s.
    duration = frames[-1].timestamp_s
    assert tracker.full_searches <= 1 + duration / tracker.refresh_s + 1
    assert tracker.tracked == len(frames) - tracker.full_searches


def _canvas(x: int, y: int, side: int = 300, width: int = 854, height: int = 480) -> np.ndarray:
    grey = cv2.cvtColor(face_photo(), cv2.COLOR_RGB2GRAY)
    frame = np.full((height, width), 96, np.uint8)
    frame[y : y + side, x : x + side] = cv2.resize(grey, (side, side), interpolation=cv2.INTER_AREA)
    return frame


def test_a_face_that_jumps_away_is_found_by_a_full_search_in_the_same_frame(detector) -> None:
    tracker = FaceTracker(detector, refresh_s=100.0)
    left, right = _canvas(20, 100), _canvas(530, 150)
    first = tracker.detect(left, 0.0)
    assert first is not None and tracker.full_searches == 1
    moved = tracker.detect(right, 0.1)
    expected = detector.detect(right)
    assert moved is not None and expected is not None
    assert _iou(moved, expected) > 0.6 and moved.x > 400
    assert tracker.full_searches == 2  # the window around the old place was empty


def test_no_face_means_a_full_search_every_frame(detector) -> None:
    tracker = FaceTracker(detector)
    blank = np.full((480, 854), 128, np.uint8)
    assert [tracker.detect(blank, t / 30) for t in range(3)] == [None, None, None]
    assert tracker.full_searches == 3 and tracker.tracked == 0


def test_refresh_runs_a_full_search_on_schedule(detector) -> None:
    tracker = FaceTracker(detector, refresh_s=1.0)
    frame = _canvas(200, 100)
    for i in range(31):  # 0 .. 1.0 s at 30 fps
        assert tracker.detect(frame, i / 30) is not None
    assert tracker.full_searches == 2 and tracker.tracked == 29


def test_tracker_rejects_bad_settings(detector) -> None:
    with pytest.raises(ValueError):
        FaceTracker(detector, keyframe_face_px=12)
    with pytest.raises(ValueError):
        FaceTracker(detector, size_tolerance=1.0)
    with pytest.raises(ValueError):
        FaceTracker(detector, refresh_s=-1)
    with pytest.raises(ValueError):
        FaceTracker(detector, keyframe_scale_factor=1.0)
    with pytest.raises(ValueError):
        FaceTracker(detector, refine_tolerance=1.0)


def test_a_face_the_downscaled_keyframe_misses_is_found_at_full_resolution(detector) -> None:
    # A 52 px face in a 480p frame: above the detector's minimum (48 px), but only ~35 px
    # after the keyframe downscale, where Haar misses it. The fallback must find it.
    frame = _canvas(300, 100, side=240)
    expected = detector.detect(frame)
    assert expected is not None
    scale = 32 / (detector.min_size_frac * 480)
    small = detector.search(frame, scale, min_side=round(detector.min_size_frac * 480 * scale))
    assert not small  # the premise: the reduced search alone finds nothing
    tracker = FaceTracker(detector, keyframe_face_px=32)
    assert tracker.detect(frame, 0.0) == expected
    assert tracker.fallbacks == 1


def test_a_keyframe_is_answered_by_the_coarse_search_without_the_fallback(detector) -> None:
    frame = _canvas(200, 100)
    expected = detector.detect(frame)
    tracker = FaceTracker(detector)
    found = tracker.detect(frame, 0.0)
    assert expected is not None and found is not None
    assert tracker.full_searches == 1 and tracker.fallbacks == 0
    assert _iou(found, expected) > 0.75


def test_a_coarse_false_positive_is_not_confirmed(detector) -> None:
    # Accept every coarse window (0 neighbours): textured background gives candidates that
    # the confirming search rejects, so the face is still the answer.
    from skimage import data

    frame = cv2.resize(cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2GRAY), (854, 480))
    frame[100:400, 500:800] = _canvas(0, 0)[:300, :300]
    expected = detector.detect(frame)
    assert expected is not None
    coarse = detector.search(frame, 36 / 48, min_side=36, scale_factor=1.2, min_neighbors=0)
    assert any(_iou(c.face_box(), expected) == 0 for c in coarse)  # the premise
    tracker = FaceTracker(detector, keyframe_min_neighbors=0, max_candidates=50)
    found = tracker.detect(frame, 0.0)
    assert expected is not None and found is not None
    assert _iou(found, expected) > 0.75 and tracker.fallbacks == 0


def test_window_search_scores_are_calibrated_for_its_own_evidence() -> None:
    # The same evidence means less at full resolution, where a face gathers more neighbours.
    assert WINDOW_SEARCH(3, 0.5) < 0.1 < 0.9 < WINDOW_SEARCH(40, 4.0)
    assert WINDOW_SEARCH(12, 2.0) > FULL_SEARCH(12, 2.0)
