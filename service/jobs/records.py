"""The frames file of a job: one ``FrameRecord`` per line, appended as the stream yields them.

A line is ``{"i": index, "t": timestamp_s, "b": [x, y, w, h, score] | null, "p": [probs] |
null, "f": [features] | null, "k": keyframe}``; float32 values are written as the exact
decimal of their float64 widening, so reading a line back gives the very same arrays. A resume
cuts the file at its checkpoint (``truncate``) and appends from there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from service.faces import FaceBox
from service.jobs.store import Checkpoint
from service.pipeline import FrameRecord


def encode(record: FrameRecord) -> bytes:
    box = record.box
    line = {
        "i": record.index,
        "t": record.timestamp_s,
        "b": None if box is None else [box.x, box.y, box.w, box.h, box.score],
        "p": None if record.probs is None else [float(v) for v in record.probs],
        "f": None if record.features is None else [float(v) for v in record.features],
        "k": record.keyframe,
    }
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes | str) -> FrameRecord:
    d = json.loads(line)
    b = d["b"]
    return FrameRecord(
        index=d["i"],
        timestamp_s=d["t"],
        box=None if b is None else FaceBox(b[0], b[1], b[2], b[3], b[4]),
        probs=None if d["p"] is None else np.asarray(d["p"], np.float32),
        features=None if d["f"] is None else np.asarray(d["f"], np.float32),
        keyframe=d["k"],
    )


def read(
    source: Path | BinaryIO, offset: int = 0, limit: int | None = None
) -> Iterator[FrameRecord]:
    """Records ``offset`` .. ``offset + limit`` of the file (a path, or a file opened before:
    it stays readable if the job is deleted meanwhile), streamed (bounded memory)."""
    f = open(source, "rb") if isinstance(source, Path) else source  # noqa: SIM115
    with f:
        for n, line in enumerate(f):
            if n < offset:
                continue
            if limit is not None and n >= offset + limit:
                return
            yield decode(line)


class FramesWriter:
    """Appends records and keeps the last safe resume point: just before a keyframe."""

    def __init__(self, path: Path, start: Checkpoint) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.file = os.fdopen(fd, "r+b")
        self.file.truncate(start.offset)  # drop what came after the checkpoint
        self.file.seek(start.offset)
        self.offset = start.offset
        self.frames = start.frames
        self.last_index = start.index
        self.safe = start

    def append(self, record: FrameRecord) -> None:
        if record.keyframe:  # resuming here reproduces this frame and all after it
            self.safe = Checkpoint(self.offset, self.last_index, self.frames)
        data = encode(record)
        self.file.write(data)
        self.offset += len(data)
        self.frames += 1
        self.last_index = record.index

    def sync(self) -> Checkpoint:
        """Flush and fsync; the safe point returned is on disk."""
        self.file.flush()
        os.fsync(self.file.fileno())
        return self.safe

    def end(self) -> Checkpoint:
        """Everything written is final (the stream ended): the end is the checkpoint."""
        self.sync()
        self.safe = Checkpoint(self.offset, self.last_index, self.frames)
        return self.safe

    def close(self) -> None:
        self.file.close()
