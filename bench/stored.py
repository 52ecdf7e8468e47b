"""Recorded footage as devices store it, in the real-clip part of `make bench`.

``WolfgangLanger_Pexels.mp4`` re-encoded twice, the way footage reaches us from devices the
five clips do not cover:
- ``phone``: as a phone stores a portrait clip — HEVC Main 10 (10-bit, as phones record HDR),
  the frames on their side and a display matrix turning them back;
- ``camcorder``: as an HDV/DV camcorder stores it — squashed to 480x360 with 4:3 pixels.

Each is timed end to end against its own decode floor (alternating, as the recorded clips
are), and its answers are compared with the recorded clip's: the share of frames with the
same label, and the median IoU of the face boxes once mapped into the same frame.
"""

from __future__ import annotations

import statistics
import time
from fractions import Fraction
from typing import Any

import av
import cv2
import numpy as np

from bench.floors import decode_all
from bench.gateway import Gateway
from bench.real import INTERVAL, VIDEO, log
from bench.stats import summary
from service.faces import FaceBox, iou
from tools.facevideo import encode_video

SOURCE = "WolfgangLanger_Pexels.mp4"
CAMCORDER_SIZE = (480, 360)  # stored; shown 640x360 by a player, 480x270 by the gateway


def _source_frames() -> tuple[list[np.ndarray], Fraction]:
    with av.open(str(VIDEO / SOURCE)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        return frames, Fraction(stream.average_rate or 24)


def variants() -> dict[str, dict[str, Any]]:
    """The clip as each device stores it: bytes, how, and how to map its boxes to the source's
    frame (a scale)."""
    frames, rate = _source_frames()
    phone = encode_video(
        (np.ascontiguousarray(np.rot90(f, 1)) for f in frames), rate, codec="libx265",
        pix_fmt="yuv420p10le", display=(-90, False, False),
        options={"preset": "ultrafast", "crf": "24", "x265-params": "log-level=error"},
    )  # fmt: skip
    camcorder = encode_video(
        (cv2.resize(f, CAMCORDER_SIZE, interpolation=cv2.INTER_AREA) for f in frames), rate,
        options={"preset": "veryfast", "crf": "20"}, pixel_aspect=Fraction(4, 3),
    )  # fmt: skip
    width = frames[0].shape[1]
    return {
        "phone": {
            "data": phone,
            "stored": "HEVC Main 10, 360x640 on its side, display matrix -90",
            "scale": 1.0,
        },
        "camcorder": {
            "data": camcorder,
            "stored": "H.264, 480x360, 4:3 pixels",
            "scale": CAMCORDER_SIZE[0] / width,
        },
    }


def _agreement(answer: dict, reference: dict, scale: float) -> dict[str, Any]:
    # Same timestamps, same sampled frames; a difference in count shows in "frames".
    pairs = list(zip(answer["frames"], reference["frames"], strict=False))
    same = sum(a["label"] == b["label"] for a, b in pairs)
    ious = []
    for a, b in pairs:
        if a["face"] and b["face"]:
            mine = {k: round(a["face"][k] / scale) for k in "xywh"}
            theirs = {k: b["face"][k] for k in "xywh"}
            ious.append(iou(FaceBox(**mine, score=1.0), FaceBox(**theirs, score=1.0)))
    return {
        "frames": [len(answer["frames"]), len(reference["frames"])],
        "same_label": same / len(pairs) if pairs else None,
        "iou_median": statistics.median(ious) if ious else None,
        "faces": sum(a["face"] is not None for a, _ in pairs),
        "reference_faces": sum(b["face"] is not None for _, b in pairs),
    }


def stored(gw: Gateway, repeats: int) -> dict[str, Any]:
    """Each variant at 0.5 s and every frame: client wall time against its decode floor,
    and its answers against the recorded clip's."""
    t0 = time.perf_counter()
    clips = variants()
    log(f"stored variants encoded in {time.perf_counter() - t0:.1f} s")
    source = (VIDEO / SOURCE).read_bytes()
    out: dict[str, Any] = {}
    for interval in (INTERVAL, 0.0):
        reference = gw.predict(source, SOURCE, sample_interval=interval)
        for name, v in clips.items():
            data = v["data"]
            answer = gw.predict(data, f"{name}.mov", sample_interval=interval)  # warm-up
            times, decodes = [], []
            for _ in range(repeats):
                t = time.perf_counter()
                decode_all(data)
                decodes.append(time.perf_counter() - t)
                t = time.perf_counter()
                answer = gw.predict(data, f"{name}.mov", sample_interval=interval)
                times.append(time.perf_counter() - t)
            key = f"{name}@{interval:g}"
            out[key] = {
                "variant": name,
                "interval": interval,
                "stored": v["stored"],
                "bytes": len(data),
                "shown": [answer["media"]["width"], answer["media"]["height"]],
                "seconds": summary(times),
                "decode": summary(decodes),
                **_agreement(answer, reference, v["scale"]),
            }
            ratio = statistics.median(times) / statistics.median(decodes)
            log(f"stored {key}: {ratio:.2f} x decode, same label {out[key]['same_label']:.3f}")
    return out
