"""Measurements in the benchmark process: floors, in-process ablations, micro-batching."""

from __future__ import annotations

import asyncio
import io
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

from bench.floors import decode_all, decode_grey_gateway, decode_grey_pyav
from bench.stats import repeat, summary
from model_artifact import ModelRepository, ModelVersion
from service import media
from service.backends.base import Backend
from service.faces import FaceBox, FaceDetector, FaceTracker, crop_face
from service.media import MediaLimits, open_media
from service.pipeline import Pipeline, PredictOptions
from service.schemas import PredictResponse

if TYPE_CHECKING:
    from service.backends.runtimes import RuntimeName


def iou(a: FaceBox | dict | None, b: FaceBox | dict | None) -> float | None:
    if a is None or b is None:
        return None
    p, q = _xywh(a), _xywh(b)
    iw = max(0, min(p[0] + p[2], q[0] + q[2]) - max(p[0], q[0]))
    ih = max(0, min(p[1] + p[3], q[1] + q[3]) - max(p[1], q[1]))
    union = p[2] * p[3] + q[2] * q[3] - iw * ih
    return iw * ih / union if union else 0.0


def _xywh(box: FaceBox | dict | list) -> tuple[int, int, int, int]:
    if isinstance(box, FaceBox):
        return box.x, box.y, box.w, box.h
    if isinstance(box, dict):
        return box["x"], box["y"], box["w"], box["h"]
    return tuple(box)


def grey_floors(data: bytes, repeats: int) -> dict[str, Any]:
    """Grey frames for every frame of a clip: decode only, + swscale, + the luma-plane path.
    (The decode floor the end-to-end ratios use is timed beside each request in bench.run.)"""
    return {
        "decode": repeat(lambda: decode_all(data), repeats)[0],
        "grey_swscale": repeat(lambda: decode_grey_pyav(data), repeats)[0],
        "grey_gateway": repeat(lambda: decode_grey_gateway(data, 0.0), repeats)[0],
    }


def detect_floor(
    data: bytes,
    interval: float,
    model: ModelVersion,
    run_model: Callable[[np.ndarray], np.ndarray],
    *,
    naive: bool,
    repeats: int,
) -> dict[str, Any]:
    """Detection alone on the sampled frames (streamed: only detector calls are timed), the
    tracker's recall against full-res Haar, and the model alone on the crops (batches of 32)."""
    size = (model.card.input.height, model.card.input.width)
    detector = FaceDetector()

    def run(kind: str) -> tuple[float, list[FaceBox | None], list[np.ndarray]]:
        spent = 0.0
        boxes: list[FaceBox | None] = []
        crops: list[np.ndarray] = []
        tracker = FaceTracker(detector)
        with open_media(io.BytesIO(data), MediaLimits(max_frames=10**6)) as src:
            for frame in src.frames(interval):
                t0 = time.perf_counter()
                if kind == "naive":
                    box = detector.detect(frame.image)
                else:
                    box = tracker.detect(frame.image, frame.timestamp_s)
                spent += time.perf_counter() - t0
                boxes.append(box)
                if box is not None and len(crops) < 64:
                    crops.append(crop_face(frame.image, box, model.card.face_region, size))
        return spent, boxes, crops

    out: dict[str, Any] = {}
    tracked_times: list[float] = []
    boxes: list[FaceBox | None] = []
    crops: list[np.ndarray] = []
    for _ in range(repeats):
        seconds, boxes, crops = run("tracked")
        tracked_times.append(seconds)
    out["tracked"] = summary(tracked_times)
    out["frames"] = len(boxes)
    out["tracked_found"] = sum(b is not None for b in boxes)
    if naive:
        seconds, ref, _ = run("naive")
        out["naive"] = summary([seconds])
        out["naive_found"] = sum(b is not None for b in ref)
        ious = [v for a, b in zip(ref, boxes, strict=True) if (v := iou(a, b)) is not None]
        out["iou_vs_naive"] = {"min": min(ious), "median": statistics.median(ious)} if ious else {}
    # Model floor: every crop of the clip in batches of 32 (timed on up to 64 distinct crops).
    faces = out["tracked_found"]
    if crops and faces:
        batch = np.stack(crops)[..., np.newaxis]
        chunks = [batch[i : i + 32] for i in range(0, len(batch), 32)]
        per = repeat(lambda: [run_model(c) for c in chunks], repeats)[0]
        scale = faces / len(batch)
        out["model"] = summary([v * scale for v in per["values"]])
    else:
        out["model"] = None
    return out


def _run_pipeline(
    pipeline: Pipeline, data: bytes, model: ModelVersion, options: PredictOptions
) -> PredictResponse:
    return asyncio.run(pipeline.run(io.BytesIO(data), model, options))


def pipeline_ablation(
    data: bytes,
    model: ModelVersion,
    backend: Backend,
    interval: float,
    repeats: int,
    max_frames: int,
) -> dict[str, Any]:
    """The in-process pipeline with each optimisation switched on in turn (same clip)."""
    from service.metrics import Metrics

    def swscale(frame: av.VideoFrame, reformatter: VideoReformatter | None = None) -> np.ndarray:
        return np.ascontiguousarray(frame.to_ndarray(format="gray"))

    fast = media.grey_frame
    cores = cv2.getNumberOfCPUs()
    with open_media(io.BytesIO(data), MediaLimits()) as probe:
        pixels = probe.info.width * probe.info.height
    variants = [
        ("before: swscale grey, full-res Haar per frame, no prefetch", swscale, False, 0, cores),
        ("+ luma-plane grey", fast, False, 0, cores),
        ("+ tracking (downscaled keyframes, window search)", fast, True, 0, cores),
        ("+ decode-ahead thread (Prefetch, 8 frames)", fast, True, 8 * pixels, cores),
        ("+ decode ahead up to 64 frames / 32 MiB", fast, True, 32 * 2**20, cores),
        ("+ one OpenCV thread per request (the gateway now)", fast, True, 32 * 2**20, 1),
    ]
    out = {}
    options = PredictOptions(sample_interval=interval, max_frames=max_frames)
    for label, grey, tracking, prefetch, threads in variants:
        pipeline = Pipeline(
            backend, FaceDetector(), MediaLimits(max_frames=10**6), Metrics(),
            tracking=tracking, prefetch_bytes=prefetch, opencv_threads=threads,
        )  # fmt: skip
        media.grey_frame = grey
        try:
            stats, response = repeat(
                partial(_run_pipeline, pipeline, data, model, options),
                repeats,
                warmup=0,
            )
        finally:
            media.grey_frame = fast
            cv2.setNumThreads(1)
        out[label] = {"seconds": stats, "frames_with_face": response.summary.frames_with_face}
    return out


def microbatch_ablation(model: ModelVersion, clients: int, requests: int) -> dict[str, Any]:
    """``clients`` concurrent callers, one crop per call, with and without micro-batching."""
    from service.backends.embedded import EmbeddedBackend

    rng = np.random.default_rng(0)
    h, w = model.card.input.height, model.card.input.width
    crops = rng.integers(0, 256, (requests, 1, h, w, 1), dtype=np.uint8)
    out = {}
    for max_batch in (0, 64):

        async def main(mb: int = max_batch) -> tuple[float, int]:
            backend = EmbeddedBackend(max_batch=mb)
            await backend.start([model])

            async def client(k: int) -> None:
                for i in range(k, requests, clients):
                    await backend.predict(model, crops[i])

            t0 = time.perf_counter()
            await asyncio.gather(*(client(k) for k in range(clients)))
            elapsed = time.perf_counter() - t0
            calls = sum(b.calls for b in backend.batchers().values()) or requests
            return elapsed, calls

        runs = [asyncio.run(main()) for _ in range(3)]
        out["on" if max_batch else "off"] = {
            "seconds": summary([r[0] for r in runs]),
            "model_calls": runs[-1][1],
            "requests_per_s": requests / statistics.median(r[0] for r in runs),
        }
    return out


def load_model(
    root: Path, name: str, runtime: RuntimeName | None = None
) -> tuple[ModelVersion, Any]:
    """The model and a numpy function running it as the embedded backend does (its runtime,
    ``MMED_EMBEDDED_RUNTIME``, unless ``runtime`` is given: the model floor measures what the
    gateway runs)."""
    from service.backends.runtimes import load_runtime
    from service.settings import Settings

    model = ModelRepository(root).load(name)
    return model, load_runtime(model, runtime or Settings().embedded_runtime).run
