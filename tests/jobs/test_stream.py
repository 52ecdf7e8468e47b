"""The C3 seam the jobs stand on: ``Pipeline.stream`` and its ``start_after`` resume, and the
frames file's checkpoints."""

from __future__ import annotations

import asyncio
import io
from contextlib import aclosing
from pathlib import Path

import numpy as np
import pytest

from model_artifact import ModelRepository
from service.backends.embedded import EmbeddedBackend
from service.faces import FaceDetector
from service.jobs import records
from service.jobs.records import FramesWriter
from service.jobs.store import Checkpoint
from service.media import MediaLimits
from service.metrics import Metrics
from service.pipeline import FrameRecord, Pipeline, PredictOptions

EVERY = PredictOptions(sample_interval=0.0, max_frames=10_000)


class Counting:
    """An Analysis that records which frames it saw (features = [index, face?])."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.finished: list[int] | None = None

    def features(self, grey: np.ndarray, box: object) -> np.ndarray:
        self.seen.append(len(self.seen))
        return np.array([grey.mean(), box is not None], np.float32)

    def finish(self, recs, model, info, options) -> list[dict]:
        self.finished = [r.index for r in recs]
        return [{"kind": "test", "frames": len(recs)}]


LOOP = asyncio.new_event_loop()  # one loop: the backend's micro-batchers belong to it


@pytest.fixture(scope="module")
def setup(shipped: Path):
    model = ModelRepository(shipped).load("micro-cnn")
    backend = EmbeddedBackend()
    LOOP.run_until_complete(backend.start([model]))
    pipeline = Pipeline(backend, FaceDetector(), MediaLimits(max_video_s=3600), Metrics())
    return pipeline, model


def collect(pipeline: Pipeline, model, data: bytes, start_after=None, analysis=None):
    async def go() -> list[FrameRecord]:
        stream = pipeline.stream(io.BytesIO(data), model, EVERY, analysis, start_after)
        async with aclosing(stream):
            return [r async for r in stream]

    return LOOP.run_until_complete(go())


def test_resume_from_a_keyframe_gives_the_same_records(setup, long_clip: bytes) -> None:
    pipeline, model = setup
    full = collect(pipeline, model, long_clip)
    assert [r.index for r in full] == list(range(360))
    keyframes = [r.index for r in full if r.keyframe]
    assert keyframes[0] == 0 and len(keyframes) >= 3  # the first frame, then every 10 s
    start = next(k for k in keyframes if k > 100)
    analysis = Counting()
    resumed = collect(pipeline, model, long_clip, start_after=start - 1, analysis=analysis)
    assert [r.index for r in resumed] == list(range(start, 360))
    assert len(analysis.seen) == 360 - start  # skipped frames: no detection, no features
    for a, b in zip(full[start:], resumed, strict=True):
        assert a.box == b.box and a.keyframe == b.keyframe
        assert (a.probs is None) == (b.probs is None)
        if a.probs is not None:
            assert np.max(np.abs(a.probs - b.probs)) <= 1e-6
    assert all(r.features is not None and r.features.dtype == np.float32 for r in resumed)


def test_run_is_stream_plus_postprocess(setup, clip: bytes) -> None:
    pipeline, model = setup
    analysis = Counting()
    response = LOOP.run_until_complete(pipeline.run(io.BytesIO(clip), model, EVERY, analysis))
    recs = collect(pipeline, model, clip)
    assert [f.index for f in response.frames] == [r.index for r in recs]
    assert analysis.finished == [r.index for r in recs]
    assert response.summary.frames_with_face == sum(r.probs is not None for r in recs)


def test_frames_file_checkpoints_before_keyframes(tmp_path: Path) -> None:
    def rec(i: int, key: bool) -> FrameRecord:
        probs = np.array([0.25, 0.75], np.float32)
        return FrameRecord(i, i / 30, None, probs if i % 2 else None, None, key)

    path = tmp_path / "frames.ndjson"
    w = FramesWriter(path, Checkpoint(0, None, 0))
    for i in range(10):
        w.append(rec(i, key=i in (0, 6)))
    safe = w.sync()
    assert (safe.index, safe.frames) == (5, 6)  # resume at the keyframe 6
    w.close()
    again = FramesWriter(path, safe)  # a resume cuts what came after
    for i in range(6, 8):
        again.append(rec(i, key=i == 6))
    end = again.end()
    again.close()
    got = list(records.read(path))
    assert [r.index for r in got] == list(range(8)) and end.frames == 8
    assert got[7].probs is not None and got[7].probs.tolist() == [0.25, 0.75]
    assert [r.index for r in records.read(path, offset=2, limit=3)] == [2, 3, 4]


@pytest.mark.parametrize(("prefetch", "ahead"), [(0, 4), (32 * 2**20, 0)], ids=["serial", "inline"])
def test_tracking_in_its_own_thread_gives_the_same_records(setup, clip, prefetch, ahead) -> None:
    # Tracking faces in a thread of their own (track_ahead 4) gives the very same records as
    # tracking them in the worker (the default) and as decoding there too (no prefetch).
    pipeline, model = setup
    threaded = pipeline.with_limits(pipeline.limits)
    threaded.track_ahead = 4
    got = collect(threaded, model, clip, analysis=Counting())
    other = pipeline.with_limits(pipeline.limits)
    other.prefetch_bytes, other.track_ahead = prefetch, ahead
    same = collect(other, model, clip, analysis=Counting())
    assert len(got) == len(same) > 0 and any(r.box is not None for r in same)
    for a, b in zip(got, same, strict=True):
        assert (a.index, a.timestamp_s, a.box, a.keyframe) == (
            b.index,
            b.timestamp_s,
            b.box,
            b.keyframe,
        )
        assert (a.probs is None) == (b.probs is None)
        if a.probs is not None:
            assert np.max(np.abs(a.probs - b.probs)) <= 1e-6
        assert a.features is not None and b.features is not None
        np.testing.assert_array_equal(a.features, b.features)
