"""The floors every figure is divided by, measured in the benchmark process.

- decode: PyAV decodes every frame of the clip (the gateway's threading, no pixel conversion):
  the cheapest pass any analysis of the clip must make.
- detect: face detection alone on the already decoded, sampled grey frames.
- model: the backend's model alone on the batch of crops.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from service.faces import FaceBox, FaceDetector, FaceTracker, crop_face
from service.media import Frame, MediaLimits, open_media


def decode_all(data: bytes) -> int:
    """Decode every frame (no conversion); returns the frame count."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def decode_grey_pyav(data: bytes) -> int:
    """Decode every frame and convert it with PyAV's ``to_ndarray(format="gray")`` (swscale)."""
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_type = "AUTO"
        return sum(1 for f in container.decode(stream) if f.to_ndarray(format="gray").size)


def decode_grey_gateway(data: bytes, interval: float) -> int:
    """The gateway's media path: decode, sample by timestamp, grey frames."""
    with open_media(io.BytesIO(data), MediaLimits(max_frames=10**6)) as media:
        return sum(1 for _ in media.frames(interval))


def sampled_frames(path: Path, interval: float, cap: int = 10**6) -> list[Frame]:
    """The grey frames the gateway analyses at ``interval`` (held in memory: keep clips short)."""
    with open_media(io.BytesIO(path.read_bytes()), MediaLimits(max_frames=cap)) as media:
        return list(media.frames(interval))


def detect_naive(frames: list[Frame]) -> list[FaceBox | None]:
    """Full-resolution Haar on every frame (the default FaceDetector, no tracking)."""
    detector = _naive()
    return [detector.detect(f.image) for f in frames]


def detect_tracked(frames: list[Frame], detector: FaceDetector) -> list[FaceBox | None]:
    """The gateway's per-stream detection (FaceTracker over ``detector``)."""
    tracker = FaceTracker(detector)
    return [tracker.detect(f.image, f.timestamp_s) for f in frames]


def crops_for(
    frames: list[Frame], boxes: list[FaceBox | None], region: str, size: tuple[int, int]
) -> np.ndarray:
    crops = [crop_face(f.image, b, region, size) for f, b in zip(frames, boxes, strict=True) if b]
    return np.stack(crops)[..., np.newaxis] if crops else np.zeros((0, *size, 1), np.uint8)


_NAIVE: list[FaceDetector] = []


def _naive() -> FaceDetector:
    if not _NAIVE:
        _NAIVE.append(FaceDetector(detect_width=None))
    return _NAIVE[0]


def model_runner(saved_model_dir: Path) -> Callable[[np.ndarray], np.ndarray]:
    """The SavedModel's serving signature as a numpy function (as the embedded backend runs it)."""
    import tensorflow as tf

    from model_artifact.card import INPUT_KEY, OUTPUT_KEY, SIGNATURE

    loaded = tf.saved_model.load(str(saved_model_dir))
    fn = loaded.signatures[SIGNATURE]

    def run(batch: np.ndarray) -> np.ndarray:
        return fn(**{INPUT_KEY: tf.constant(batch, tf.uint8)})[OUTPUT_KEY].numpy()

    # Keep the object alive (the signature holds a weak reference).
    run.loaded = loaded  # type: ignore[attr-defined]
    return run
