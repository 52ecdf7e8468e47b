"""The request pipeline, KServe-style: preprocess (media → crops), predict, postprocess.

Preprocessing (decode, sample, detect, crop) runs in worker threads and hands crops over in
chunks, so decoding the next chunk overlaps inference of the previous one and a long video is
never held in memory whole. A video is decoded ahead in its own thread; its faces can be
tracked in another (``track_ahead``), a few frames ahead of the worker that crops them.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol, TypeVar

import cv2
import numpy as np

from model_artifact import ModelVersion
from service.backends.base import Backend
from service.faces import FaceBox, FaceDetector, FaceTracker, crop_face
from service.faces.still import FaceSearch, StillFaceSearch
from service.gate import Gates, SmileGate
from service.media import Frame, MediaInfo, MediaLimits, MediaSource, open_media
from service.metrics import Metrics
from service.prefetch import Prefetch
from service.schemas import (
    Face,
    FrameResult,
    MediaSummary,
    ModelRef,
    PredictResponse,
    Summary,
    Timing,
)

T = TypeVar("T")

PREFETCH_MAX = 64  # frames decoded ahead at most, however small
# Frames with a face box waiting for their crop and features when tracking runs in its own
# thread (off by default: ``track_ahead``).
TRACK_AHEAD = 4


class Worker:
    """Runs one request's blocking steps in worker threads, one at a time.

    A thread cannot be interrupted. When the request is cancelled (its timeout, a shutdown) the
    worker sets ``stop``, which the frame loop checks before every frame, and waits for the
    running step to return before the cancellation goes on: so the decoding really ends within
    a frame, and nothing closes the upload or the decoder under a thread still using them.
    """

    def __init__(self) -> None:
        self.stop = threading.Event()

    async def __call__(
        self, fn: Callable[..., T], *args: Any, discard: Callable[[T], None] | None = None
    ) -> T:
        """``fn(*args)`` in a thread; ``discard`` receives a result the caller no longer takes."""
        running = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            self.stop.set()
            await asyncio.wait([running])
            if running.exception() is None and discard is not None:  # retrieves any error too
                discard(running.result())
            raise


@dataclass(frozen=True)
class PredictOptions:
    sample_interval: float = 0.5
    detect_faces: bool = True
    max_frames: int = 2000


@dataclass
class FrameRecord:
    """One sampled frame as the pipeline produced it (internal; not the API schema).

    ``keyframe``: a full face search ran on this frame, so what the detector finds from here on
    does not depend on earlier frames: a resumed stream (``start_after``) that starts at a
    keyframe gives the very same records as an uninterrupted one.
    """

    index: int
    timestamp_s: float
    box: FaceBox | None
    probs: np.ndarray | None  # float32 [K] in card class order; None without a face
    features: np.ndarray | None = None  # float32 vector from the analysis hook; None if none
    keyframe: bool = True


class Analysis(Protocol):
    """An optional per-request post-stage (spotting implements it).

    ``features`` runs in the preprocess thread on every sampled frame (the full grey frame and
    its face box) and must depend on those arguments only: a resumed job calls it from the
    resume point on. ``finish`` sees every record, in order, once the stream has ended.
    """

    def features(self, grey: np.ndarray, box: FaceBox | None) -> np.ndarray | None: ...

    def finish(
        self,
        records: Sequence[FrameRecord],
        model: ModelVersion,
        info: MediaInfo,
        options: PredictOptions,
    ) -> list[Any] | None: ...


@dataclass
class Chunk:
    """Up to ``batch`` sampled frames: their records (no probs yet) and the crops of those
    with a face, in order."""

    records: list[FrameRecord] = field(default_factory=list)
    crops: list[np.ndarray] = field(default_factory=list)
    gate_crops: list[np.ndarray] = field(default_factory=list)  # the smile gate's full faces


@dataclass(frozen=True)
class Tracked:
    """A decoded frame, its face box and whether it is a keyframe (``skipped``: before a
    resumed stream's start, passed on to count chunk positions only)."""

    frame: Frame
    box: FaceBox | None
    keyframe: bool
    skipped: bool = False


@dataclass
class StageClock:
    decode: float = 0.0
    detect: float = 0.0
    infer: float = 0.0


class FrameStream:
    """The records of one upload, as an async iterator (``Pipeline.stream``).

    ``info`` is set once the media is open (before the first record); ``clock`` holds the
    stage times so far; ``gate`` is the smile gate the probabilities went through, if any.
    Use ``async with contextlib.aclosing(stream)`` (or iterate it to the end) so the decoder
    is released when the consumer stops early.
    """

    def __init__(self) -> None:
        self.info: MediaInfo | None = None
        self.clock = StageClock()
        self.gate: SmileGate | None = None
        self._records: AsyncIterator[FrameRecord] | None = None

    def __aiter__(self) -> FrameStream:
        return self

    async def __anext__(self) -> FrameRecord:
        assert self._records is not None
        return await anext(self._records)

    async def aclose(self) -> None:
        if self._records is not None:
            await self._records.aclose()  # type: ignore[attr-defined]


class Pipeline:
    """Turns one upload into a ``PredictResponse`` for one model version."""

    def __init__(
        self,
        backend: Backend,
        detector: FaceDetector,
        limits: MediaLimits,
        metrics: Metrics,
        batch: int = 32,
        *,
        tracking: bool = True,
        prefetch_bytes: int = 32 * 2**20,
        opencv_threads: int | None = 1,
        track_ahead: int = 0,
        image_search: FaceSearch | None = None,
        gates: Gates | None = None,
    ) -> None:
        self.backend = backend
        self.detector = detector
        self.limits = limits
        self.metrics = metrics
        self.batch = batch
        # Videos: faces tracked between full searches (FaceTracker) and frames decoded ahead
        # in their own thread, at most ``prefetch_bytes`` of grey frames and ``PREFETCH_MAX``
        # frames (0 bytes = decode in the worker thread): a budget in bytes lets the decoder run
        # further ahead on small frames (keeping busy while a keyframe search runs) without
        # holding more memory on large ones.
        self.tracking = tracking
        self.prefetch_bytes = prefetch_bytes
        # Decoded-ahead videos: ``track_ahead`` > 0 tracks faces in a thread of their own, that
        # many frames ahead of the crops and features; 0 (the default) tracks them in the
        # worker thread that crops them. Measured (docs/benchmarks-real.md, "Pipeline
        # structure"): the extra thread cost 5-20 % more CPU per every-frame request on these
        # 2-core VMs (a blocking thread handoff ~60-100 us of CPU, GIL handoffs between three
        # busy threads) and did not shorten it under load; a quiet run decides.
        self.track_ahead = track_ahead
        # Still images: by default searched as a video's first frame and framed by Haar
        # (service/faces/still.py; on FER+ valid faces in a frame Haar alone found 75 % of
        # them, training.api_eval); ``detector`` itself is the earlier search.
        self.image_search = image_search or StillFaceSearch(detector)
        # Masked models' smile gate (service/gate.py): ``gates(model)`` or None.
        self.gates = gates
        # One OpenCV thread per request (process-wide): concurrent requests, and decoding
        # beside detection, use the cores instead of each Haar call splitting over all of them.
        if opencv_threads is not None:
            cv2.setNumThreads(opencv_threads)

    def with_limits(self, limits: MediaLimits) -> Pipeline:
        """The same pipeline (backend, detector, settings) under other media limits (jobs)."""
        other = copy.copy(self)
        other.limits = limits
        return other

    def with_gate(self, gate: SmileGate | None) -> Pipeline:
        """The same pipeline with ``gate`` for every model (a job's gate, pinned at submit)."""
        other = copy.copy(self)
        other.gates = lambda _model: gate
        return other

    def gate_for(self, model: ModelVersion) -> SmileGate | None:
        """The smile gate ``model``'s probabilities go through (None: ungated)."""
        return self.gates(model) if self.gates is not None else None

    def prefetch_depth(self, width: int, height: int) -> int:
        """Grey frames of ``width`` x ``height`` the decode-ahead queue holds (2 to 64)."""
        return max(2, min(PREFETCH_MAX, self.prefetch_bytes // max(1, width * height)))

    # -- preprocess -------------------------------------------------------------------------
    def _tracked(
        self,
        source_frames: Iterator,
        options: PredictOptions,
        clock: StageClock,
        stop: threading.Event,
        kind: str = "video",
        start_after: int | None = None,
        spent: list[float] | None = None,
    ) -> Generator[Tracked, None, None]:
        """Each decoded frame with its face box (None: no face, or detection off) and whether
        it is a keyframe; frames up to ``start_after`` pass through undetected (``skipped``).
        Time spent detecting goes to ``spent[0]`` if given (another thread's), else the clock."""
        tracker = FaceTracker(self.detector) if self.tracking and kind == "video" else None
        while not stop.is_set():
            t0 = time.perf_counter()
            frame = next(source_frames, None)
            t1 = time.perf_counter()
            clock.decode += t1 - t0
            if frame is None:
                return
            if start_after is not None and frame.index <= start_after:
                yield Tracked(frame, None, False, skipped=True)
                continue  # resumed: done before, neither detected nor inferred again
            box = None
            restarts = tracker.restarts if tracker is not None else 0
            if options.detect_faces:
                box = (
                    tracker.detect(frame.image, frame.timestamp_s)
                    if tracker is not None
                    else (self.image_search if kind == "image" else self.detector).detect(
                        frame.image
                    )
                )
            keyframe = tracker is None or tracker.restarts != restarts
            elapsed = time.perf_counter() - t1
            if spent is not None:
                spent[0] += elapsed
            else:
                clock.detect += elapsed
            yield Tracked(frame, box, keyframe)

    def _chunks(
        self,
        tracked: Iterator[Tracked],
        model: ModelVersion,
        options: PredictOptions,
        clock: StageClock,
        stop: threading.Event,
        analysis: Analysis | None = None,
        gate: SmileGate | None = None,
    ) -> Generator[Chunk, None, None]:
        size = (model.card.input.height, model.card.input.width)
        region = model.card.face_region
        chunk = Chunk()
        # Chunks end every ``batch`` sampled frames counted from the first, skipped ones too:
        # a resumed stream infers the same batches as an uninterrupted one after its first.
        position = 0
        while not stop.is_set():
            item = next(tracked, None)
            if item is None:
                break
            position += 1
            if not item.skipped:
                t1 = time.perf_counter()
                frame, box = item.frame, item.box
                if box is not None or not options.detect_faces:
                    chunk.crops.append(crop_face(frame.image, box, region, size))
                    if gate is not None:
                        chunk.gate_crops.append(gate.crop(frame.image, box))
                    if box is None:  # detection off: the whole frame is the face
                        h, w = frame.image.shape[:2]
                        box = FaceBox(0, 0, w, h, 1.0)
                features = analysis.features(frame.image, box) if analysis is not None else None
                chunk.records.append(
                    FrameRecord(frame.index, frame.timestamp_s, box, None, features, item.keyframe)
                )
                clock.detect += time.perf_counter() - t1
            if position % self.batch == 0:
                yield chunk
                chunk = Chunk()
        if chunk.records:
            yield chunk

    # -- predict ----------------------------------------------------------------------------
    async def _infer(
        self, model: ModelVersion, chunk: Chunk, clock: StageClock, gate: SmileGate | None
    ) -> np.ndarray:
        if not chunk.crops:
            return np.zeros((0, len(model.card.classes)), np.float32)
        t0 = time.perf_counter()
        if gate is None:
            probs = await self._predict(model, chunk.crops)
        else:  # both models at once (the backend's batching and threads overlap them)
            probs, smiles = await asyncio.gather(
                self._predict(model, chunk.crops), self._predict(gate.model, chunk.gate_crops)
            )
            probs = gate.apply(probs, smiles)
        clock.infer += time.perf_counter() - t0
        return probs

    async def _predict(self, model: ModelVersion, crops: list[np.ndarray]) -> np.ndarray:
        t0 = time.perf_counter()
        probs = await self.backend.predict(model, np.stack(crops)[..., np.newaxis])
        elapsed = time.perf_counter() - t0
        self.metrics.backend_latency.labels(self.backend.name, model.name).observe(elapsed)
        return probs

    def stream(
        self,
        file: BinaryIO,
        model: ModelVersion,
        options: PredictOptions,
        analysis: Analysis | None = None,
        start_after: int | None = None,
    ) -> FrameStream:
        """The upload's sampled frames as records, in order, as they are inferred.

        Memory stays bounded (a chunk being inferred, one being detected, the decode-ahead
        queue). ``start_after``: resume, skipping (decoding only) frames with index <= it."""
        out = FrameStream()
        out._records = self._records(file, model, options, analysis, start_after, out)
        return out

    async def _records(
        self,
        file: BinaryIO,
        model: ModelVersion,
        options: PredictOptions,
        analysis: Analysis | None,
        start_after: int | None,
        out: FrameStream,
    ) -> AsyncIterator[FrameRecord]:
        clock = out.clock
        worker = Worker()
        source = await worker(open_media, file, self.limits, discard=MediaSource.close)
        out.info = source.info
        out.gate = gate = self.gate_for(model)
        stages = _Stages()
        try:
            tracked = self._start(source, options, clock, worker.stop, start_after, stages)
            chunks = self._chunks(tracked, model, options, clock, worker.stop, analysis, gate)
            pending: asyncio.Task | None = None
            pending_chunk: Chunk | None = None
            try:
                while True:
                    chunk = await worker(next, chunks, None)
                    done: Chunk | None = None
                    if pending is not None:
                        assert pending_chunk is not None  # set with pending
                        _attach(pending_chunk, await pending)
                        done, pending = pending_chunk, None
                    if chunk is not None:  # its inference overlaps the consumer's work
                        pending = asyncio.ensure_future(self._infer(model, chunk, clock, gate))
                        pending_chunk = chunk
                    if done is not None:
                        for record in done.records:
                            yield record
                    if chunk is None:
                        break
            finally:
                worker.stop.set()
                if pending is not None and not pending.done():
                    pending.cancel()
                chunks.close()
        finally:
            await asyncio.shield(asyncio.to_thread(stages.release, source))
            stages.settle(clock)

    def _start(
        self,
        source: MediaSource,
        options: PredictOptions,
        clock: StageClock,
        stop: threading.Event,
        start_after: int | None,
        stages: _Stages,
    ) -> Iterator[Tracked]:
        """The decoded frames with their face boxes: a video decoded ahead in its own thread
        (``Prefetch``) and, with ``track_ahead``, its faces tracked in another, a few frames
        ahead of the crops and the analysis features (three stages, for both cores also once
        the decoder has finished); else tracked, or all done, in the caller's thread."""
        frames = source.frames(options.sample_interval, options.max_frames)
        kind = source.info.kind
        if kind != "video" or self.prefetch_bytes <= 0:
            return self._tracked(frames, options, clock, stop, kind, start_after)
        depth = self.prefetch_depth(source.info.width, source.info.height)
        stages.decoding = Prefetch(frames, depth, stop)
        if self.track_ahead <= 0:
            return self._tracked(iter(stages.decoding), options, clock, stop, kind, start_after)
        tracked = self._tracked(
            iter(stages.decoding), options, clock, stop, kind, start_after, stages.spent
        )
        stages.tracking = Prefetch(tracked, self.track_ahead, stop)
        return iter(stages.tracking)

    async def run(
        self,
        file: BinaryIO,
        model: ModelVersion,
        options: PredictOptions,
        analysis: Analysis | None = None,
    ) -> PredictResponse:
        started = time.perf_counter()
        records: list[FrameRecord] = []
        stream = self.stream(file, model, options, analysis)
        async with aclosing(stream):
            async for record in stream:
                records.append(record)
        assert stream.info is not None
        events = None
        if analysis is not None:
            events = analysis.finish(records, model, stream.info, options)
        response = self._postprocess(
            stream.info, model, records, stream.clock, started, stream.gate
        )
        response.events = events
        return response

    # -- postprocess ------------------------------------------------------------------------
    def _postprocess(
        self,
        info: MediaInfo,
        model: ModelVersion,
        records: Sequence[FrameRecord],
        clock: StageClock,
        started: float,
        gate: SmileGate | None = None,
    ) -> PredictResponse:
        classes = list(model.card.classes)
        frames = [frame_result(r, classes) for r in records]
        all_probs = [r.probs for r in records if r.probs is not None]
        summary = summarise(classes, frames, all_probs, model.card.rest_class)
        self._observe(info, model, frames, clock)
        return PredictResponse(
            media=media_summary(info, len(frames)),
            model=model_ref(model, gate),
            frames=frames,
            summary=summary,
            timing_ms=timing(clock, time.perf_counter() - started),
        )

    def _observe(
        self, info: MediaInfo, model: ModelVersion, frames: list[FrameResult], clock: StageClock
    ) -> None:
        m = self.metrics
        m.frames_sampled.labels(info.kind).inc(len(frames))
        m.faces_found.labels(info.kind).inc(sum(f.face is not None for f in frames))
        for f in frames:
            if f.label is not None:
                m.predictions.labels(model.name, f.label).inc()
        for stage in ("decode", "detect", "infer"):
            m.stage.labels(stage).observe(getattr(clock, stage))


def _attach(chunk: Chunk | None, probs: np.ndarray) -> None:
    """Give the chunk's records with a face their rows of ``probs`` (in order)."""
    assert chunk is not None
    rows = iter(probs)
    for record in chunk.records:
        if record.box is not None:
            record.probs = np.asarray(next(rows), dtype=np.float32)


def frame_result(record: FrameRecord, classes: list[str]) -> FrameResult:
    """The API's view of one record."""
    ts = round(record.timestamp_s, 6)
    box, p = record.box, record.probs
    if box is None or p is None:
        return FrameResult(
            index=record.index,
            timestamp_s=ts,
            face=None,
            label=None,
            confidence=None,
            probabilities=None,
        )
    best = int(np.argmax(p))
    return FrameResult(
        index=record.index,
        timestamp_s=ts,
        face=Face(x=box.x, y=box.y, w=box.w, h=box.h, score=round(box.score, 4)),
        label=classes[best],
        confidence=float(p[best]),
        probabilities={c: float(v) for c, v in zip(classes, p, strict=True)},
    )


@dataclass
class _Stages:
    """The threads of one stream's decoding and tracking stages (none: all in the worker)."""

    decoding: Prefetch | None = None
    tracking: Prefetch | None = None
    spent: list[float] = field(default_factory=lambda: [0.0])  # the tracking thread's time

    def release(self, source: MediaSource) -> None:
        """Stop the tracking thread, then the decoder thread (each closes the iterator it
        reads from), then close the media."""
        if self.tracking is not None:
            self.tracking.close()
        if self.decoding is not None:
            self.decoding.close()
        source.close()

    def settle(self, clock: StageClock) -> None:
        """The stage times of the threads (once they have stopped)."""
        if self.decoding is not None:  # decoding ran beside detection: its own time
            clock.decode = self.decoding.seconds
        clock.detect += self.spent[0]


def media_summary(info: MediaInfo, frames_sampled: int) -> MediaSummary:
    """The answer's ``media``: what was decoded and how many frames were sampled."""
    return MediaSummary(
        kind=info.kind,
        width=info.width,
        height=info.height,
        fps=info.fps,
        duration_s=info.duration_s,
        frames_sampled=frames_sampled,
    )


def timing(clock: StageClock, total_s: float) -> Timing:
    """The answer's ``timing_ms``: each stage's time and the whole, in milliseconds."""
    return Timing(
        decode=round(clock.decode * 1000, 3),
        detect=round(clock.detect * 1000, 3),
        infer=round(clock.infer * 1000, 3),
        total=round(total_s * 1000, 3),
    )


def model_ref(model: ModelVersion, gate: SmileGate | None = None) -> ModelRef:
    """The answer's ``model``: which version answered, its classes (rest class included) and
    the smile gate its probabilities went through."""
    card = model.card
    return ModelRef(
        name=model.name,
        version=model.version,
        task=card.task,
        classes=list(card.classes),
        rest_class=card.rest_class,
        gate=gate.ref() if gate is not None else None,
    )


def summarise(
    classes: list[str],
    frames: list[FrameResult],
    probs: list[np.ndarray],
    rest_class: str | None = None,
) -> Summary:
    """Label counts (the rest class included) and the dominant label (contract C2): the most
    frequent label other than ``rest_class`` (ties: the higher mean probability), the rest
    class only when no frame has another label; mean probabilities."""
    counts = Counter(f.label for f in frames if f.label is not None)
    if not probs:
        return Summary(
            frames_with_face=0, label_counts={}, dominant_label=None, mean_probabilities=None
        )
    mean = np.mean(np.stack(probs), axis=0)
    mean_by_class = {c: float(v) for c, v in zip(classes, mean, strict=True)}
    expressions = [c for c in counts if c != rest_class] or list(counts)
    dominant = max(expressions, key=lambda c: (counts[c], mean_by_class[c]))
    return Summary(
        frames_with_face=len(probs),
        label_counts=dict(sorted(counts.items())),
        dominant_label=dominant,
        mean_probabilities=mean_by_class,
    )
