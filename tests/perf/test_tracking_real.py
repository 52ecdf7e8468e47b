"""FaceTracker on recorded footage (../shared/data/video; skipped without it): every face
full-resolution Haar finds with a confident score, boxes close to BlazeFace on every frame,
and faceless stretches searched at a bounded rate."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
import pytest

from service.faces import FaceDetector, FaceTracker, blazeface_box, iou, shared_blazeface
from service.media import MediaLimits, open_media

VIDEO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "video"
CLIPS = ["single_face.mp4", "face_noface.mov", "noface_face.mov", "no_face.mp4"]

pytestmark = pytest.mark.skipif(
    not VIDEO.is_dir(), reason=f"recorded clips not present ({VIDEO}: ../shared/data/video)"
)


def _every_frame(name: str):
    with open(VIDEO / name, "rb") as f, open_media(f, MediaLimits()) as media:
        return list(media.frames(0.0))


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.mark.slow
@pytest.mark.parametrize("name", CLIPS)
def test_tracker_finds_the_faces_haar_is_sure_of_on_recorded_clips(detector, name) -> None:
    frames = _every_frame(name)
    tracker = FaceTracker(detector)
    tracked = [tracker.detect(f.image, f.timestamp_s) for f in frames]
    bf = shared_blazeface()
    every = []
    for f in frames:
        h, w = f.image.shape
        found = [blazeface_box(d, w, h) for d in bf.detect_frame(f.image)]
        every.append(max(found, key=lambda b: b.w * b.h, default=None))
    haar = [detector.detect(f.image) for f in frames[::4]]  # full-res Haar: every 4th frame
    sure = [i * 4 for i, b in enumerate(haar) if b is not None and b.score >= 0.5]
    # Every face Haar is sure of, except within search_every_s of a faceless frame (the
    # bounded search rate: a face that appears is found within that much media time).
    for i in sure:
        if tracked[i] is None:
            faceless = [j for j in range(i) if tracked[j] is None]
            assert faceless, f"frame {i}: a tracked face was lost"
            since = frames[i].timestamp_s - frames[faceless[-1]].timestamp_s
            assert since <= tracker.search_every_s + 1e-6
            gap = [j for j in range(i) if tracked[j] is not None]
            assert not gap or gap[-1] < faceless[-1]  # still the stretch before the face
    ious = [iou(a, b) for a, b in zip(every, tracked, strict=True) if a and b]
    if "face" in name.replace("no_face", ""):
        assert float(np.median(ious)) >= 0.8
        # Followed by flow on most frames with a face: the cost stays low.
        assert tracker.followed > 0.5 * sum(b is not None for b in tracked)
    # Faceless frames: a bounded rate of searches, not one per frame.
    faceless = sum(b is None for b in tracked)
    if faceless > 30:
        assert tracker.skipped > 0.5 * faceless


def test_recorded_clip_decodes_with_variable_frame_rate() -> None:
    # HEVC, variable frame rate: timestamps strictly increase (the tracker's schedule uses them).
    with (
        open(VIDEO / "face_noface.mov", "rb") as f,
        open_media(io.BytesIO(f.read()), MediaLimits()) as m,
    ):
        times = [fr.timestamp_s for fr in m.frames(0.0)]
    assert len(times) > 100 and all(b > a for a, b in itertools.pairwise(times))
