"""A BlazeFace face in Haar's framing (service/faces/framing.py): images and every frame of a
video get Haar's own box where Haar agrees, the tracker carrying it between full searches."""

from __future__ import annotations

import io

import numpy as np
import pytest

from service.faces import FaceBox, FaceDetector, FaceTracker, iou
from service.faces import tracker as tracker_module
from service.faces.framing import Framing, haar_box
from service.media import MediaLimits, open_media
from tools.facevideo import face_video


@pytest.mark.parametrize(
    ("blaze", "haar"),
    [
        (FaceBox(100, 80, 120, 120, 0.9), FaceBox(90, 50, 140, 140, 0.8)),
        (FaceBox(300, 200, 50, 60, 0.5), FaceBox(305, 190, 40, 70, 0.4)),
    ],
)
def test_the_framing_maps_the_blazeface_box_onto_haars(blaze: FaceBox, haar: FaceBox) -> None:
    f = Framing.between(blaze, haar)
    assert f.apply(blaze, 1000, 1000) == FaceBox(haar.x, haar.y, haar.w, haar.h, blaze.score)
    # A moved, twice as large face: the same offset in box sizes, the same size ratio.
    moved = f.apply(FaceBox(blaze.x + 30, blaze.y + 10, 2 * blaze.w, 2 * blaze.h, 0.7), 1000, 1000)
    cx, cy = (
        haar.x + haar.w / 2 - blaze.x - blaze.w / 2,
        haar.y + haar.h / 2 - blaze.y - blaze.h / 2,
    )
    assert (moved.w, moved.h) == (2 * haar.w, 2 * haar.h)
    assert abs(moved.x + moved.w / 2 - (blaze.x + 30 + blaze.w + 2 * cx)) <= 1
    assert abs(moved.y + moved.h / 2 - (blaze.y + 10 + blaze.h + 2 * cy)) <= 1


def test_framing_is_clipped_to_the_frame() -> None:
    f = Framing(dx=0.5, dy=-0.5, sx=2.0, sy=2.0)
    b = f.apply(FaceBox(0, 0, 100, 100, 1.0), 120, 90)
    assert b.x >= 0 and b.y >= 0 and b.x + b.w <= 120 and b.y + b.h <= 90 and b.w >= 1


def test_haar_does_not_frame_faces_under_its_window() -> None:
    grey = np.full((200, 200), 128, np.uint8)
    assert haar_box(FaceDetector(), grey, FaceBox(10, 10, 20, 20, 0.9)) is None


@pytest.fixture(scope="module")
def dense_frames():
    clip = face_video(3.0, 30, 854, 480)
    with open_media(io.BytesIO(clip), MediaLimits()) as media:
        return list(media.frames(0.0))


def _tracked(frames, **settings: float) -> list[FaceBox | None]:
    tracker = FaceTracker(FaceDetector(), **settings)
    return [tracker.detect(f.image, f.timestamp_s) for f in frames]


@pytest.mark.slow
def test_every_frame_of_a_clip_gets_haars_framing(dense_frames, monkeypatch) -> None:
    """Against full-resolution Haar on the same frames, the tracker's boxes overlap more with
    the per-face framing than with the average one (the framing switched off)."""
    detector = FaceDetector()
    step = 4
    haar = [detector.detect(f.image) for f in dense_frames[::step]]
    framed = _tracked(dense_frames)
    with monkeypatch.context() as m:
        m.setattr(tracker_module, "haar_box", lambda *a: None)
        m.setattr(Framing, "between", classmethod(lambda cls, a, b: cls(0.0, 0.0, 1.0, 1.0)))
        average = _tracked(dense_frames)
    assert all(framed) and all(average) and all(haar)

    def median_iou(boxes: list[FaceBox | None]) -> float:
        pairs = zip(haar, boxes[::step], strict=True)
        return float(np.median([iou(a, b) for a, b in pairs if a and b]))

    # The first frame: Haar's box (its window search; the whole-frame search's scales differ).
    assert iou(framed[0], haar[0]) > 0.8
    print("median IoU vs Haar: framed", median_iou(framed), "average", median_iou(average))
    assert median_iou(framed) >= median_iou(average) + 0.03 and median_iou(framed) > 0.8


@pytest.mark.slow
def test_a_tracker_started_at_a_restart_point_gives_the_same_boxes(dense_frames) -> None:
    """A resumed job restarts the tracker at a restart point: the framing is measured there,
    from that frame alone, so the boxes from there on are the same."""
    # This clip's face is too small for BlazeFace's whole-frame view: Haar's keyframe search
    # finds it; with Haar allowed every second, the refresh searches are restart points.
    settings = {"refresh_s": 1.0, "haar_every_s": 1.0}
    tracker = FaceTracker(FaceDetector(), **settings)
    boxes, points = [], []
    for k, f in enumerate(dense_frames):
        before = tracker.restarts
        boxes.append(tracker.detect(f.image, f.timestamp_s))
        if tracker.restarts != before and k:
            points.append(k)
    assert len(points) >= 2, "a 3 s clip has refresh searches after 1 s and 2 s"
    for k in points:
        assert _tracked(dense_frames[k:], **settings) == boxes[k:], k
