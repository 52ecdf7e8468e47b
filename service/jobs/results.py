"""A finished job's ``PredictResponse`` body, assembled from its frames file.

``summarise_frames`` runs once, when the stream ends, and its output is stored with the job;
``body`` and ``ndjson`` stream a page of frames out of the file, so neither the gateway nor the
response ever holds a long recording's frames at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from model_artifact import ModelVersion
from service.jobs import records
from service.media import MediaInfo
from service.pipeline import (
    Analysis,
    FrameRecord,
    PredictOptions,
    StageClock,
    frame_result,
    media_summary,
    summarise,
    timing,
)
from service.schemas import FrameResult


class _FrameView:
    """What ``summarise`` reads of a frame, without its probabilities dict (memory)."""

    __slots__ = ("confidence", "face", "index", "label", "probabilities", "timestamp_s")

    def __init__(self, frame: FrameResult) -> None:
        self.index = frame.index
        self.timestamp_s = frame.timestamp_s
        self.face = frame.face
        self.label = frame.label
        self.confidence = frame.confidence
        self.probabilities = None


def expected_frames(info: MediaInfo, options: PredictOptions) -> int | None:
    """The sampled frames a stream of ``info`` should give (progress; exact once done)."""
    if info.kind == "image":
        return 1
    if not info.duration_s:
        return None
    if options.sample_interval == 0:
        if not info.fps:
            return None
        n = round(info.duration_s * info.fps)
    else:
        n = math.floor(info.duration_s / options.sample_interval) + 1
    return max(1, min(n, options.max_frames))


def summarise_frames(
    path: Path,
    model: ModelVersion,
    info: MediaInfo,
    options: PredictOptions,
    clock: StageClock,
    total_s: float,
    analysis: Analysis | None,
) -> dict[str, Any]:
    """Everything of the response but its frames (stored with the finished job)."""
    classes = list(model.card.classes)
    views: list[Any] = []
    probs: list[np.ndarray] = []
    kept: list[FrameRecord] = []
    for record in records.read(path):
        views.append(_FrameView(frame_result(record, classes)))
        if record.probs is not None:
            probs.append(record.probs)
        if analysis is not None:
            kept.append(record)
    events = None
    if analysis is not None:
        found: Sequence[Any] | None = analysis.finish(kept, model, info, options)
        events = None if found is None else [_jsonable(e) for e in found]
    summary = summarise(classes, views, probs, model.card.rest_class)
    media = media_summary(info, len(views))
    timing_ms = timing(clock, total_s)
    return {
        "media": media.model_dump(mode="json"),
        "summary": summary.model_dump(mode="json"),
        "timing_ms": timing_ms.model_dump(mode="json"),
        "events": events,
    }


def _jsonable(event: Any) -> Any:
    dump = getattr(event, "model_dump", None)
    return dump(mode="json") if dump is not None else event


def frames_json(
    source: Path | BinaryIO, classes: list[str], offset: int, limit: int | None
) -> Iterator[str]:
    for record in records.read(source, offset, limit):
        yield frame_result(record, classes).model_dump_json()


def body(
    meta: dict[str, Any],
    model: dict[str, Any],
    source: Path | BinaryIO,
    offset: int,
    limit: int | None,
) -> Iterator[bytes]:
    """The JSON body, frames streamed from the file between the stored parts."""
    head = {k: meta[k] for k in ("media", "summary", "timing_ms", "events")}
    head["model"] = model
    prefix = json.dumps(head, separators=(",", ":"))[:-1]
    yield (prefix + ',"frames":[').encode()
    for n, frame in enumerate(frames_json(source, model["classes"], offset, limit)):
        yield (("," if n else "") + frame).encode()
    yield b"]}"


def ndjson(
    source: Path | BinaryIO, classes: list[str], offset: int, limit: int | None
) -> Iterator[bytes]:
    for frame in frames_json(source, classes, offset, limit):
        yield frame.encode() + b"\n"
