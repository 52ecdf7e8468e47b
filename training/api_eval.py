"""Held-out faces through the gateway, as a user sends them: ``python -m training.api_eval``.

The training figures (docs/model-card.md) come from the model on the datasets' own crops. A
user uploads an image; the gateway decodes it, finds the face, crops it and only then runs
the model. This posts every held-out face to the real app in-process (``POST /v1/predict``,
the shipped repository, embedded backend) in three ways and scores the answers' ``label``:

- ``crop``: the face image itself with ``detect_faces=false`` (the documented way to send a
  face crop): must equal the training figures (same pixels, same model; a test checks it);
- ``frame``: the face upscaled 4x and pasted into a 640x480 textured frame at a seeded random
  place, default parameters: the gateway's detector finds it and its crop frames it;
- ``as-is``: the small face image with default parameters (detection on), what a user gets
  who sends a crop without reading the docs (found or not, reported);
- ``clip``: that frame as a short H.264 clip (``CLIP_FRAMES`` at 30 fps, fresh sensor noise
  in each frame), ``sample_interval=0``: the video tracker's boxes; scored by the label most
  frames give (the summary's ``label_counts``, the rest class counted like any other).

Sets: the CK+ subjects the model's card holds out (``held_out_subject_ids``) and FER+
``valid/`` (never trained on), the folders named like the model's classes. A face not found
counts against accuracy (``found`` says how often); the per-class figures are over all faces
with a missed one scored as the rest class. Writes ``docs/results/api-<model>-v<N>.json``
(``-<image detector>`` appended when it is not the default).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from training.data import DEFAULT_SUBJECT_RE, read_grey
from training.evaluate import compute_metrics

MODES = ("crop", "frame", "as-is", "clip")
CLIP_FRAMES = 8  # the clip mode's length at 30 fps: the tracker's first search and 7 frames on
LEGEND = (
    "Held-out faces sent as a user sends them (`python -m training.api_eval`, the real app "
    "in-process): `crop` = the face image with `detect_faces=false` (the same pixels as the "
    "figures above, so the same figures); `frame` = upscaled 4x into a 640x480 frame, found by "
    "the gateway's image search; `as-is` = the 48 px face image with detection on; `clip` = "
    f"the frame as an H.264 clip of {CLIP_FRAMES} frames at 30 fps (sensor noise per frame), "
    "every frame analysed (the video tracker's boxes), scored by the label most frames give, "
    "neutral included. A face not found counts as the rest class (wrong for an expression). "
    "The default image search was chosen on these sets (Haar alone, BlazeFace alone, "
    "BlazeFace framed by Haar): the `frame` and `as-is` rows of the default are not blind."
)
FRAME = (480, 640)  # height, width
UPSCALE = 4


def png(grey: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(grey).save(buf, format="PNG")
    return buf.getvalue()


def in_frame(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``face`` upscaled ``UPSCALE``x (bicubic) on a smooth textured grey frame, at a random
    place (the whole face inside the frame)."""
    h, w = FRAME
    yy, xx = np.mgrid[0:h, 0:w]
    base = 90 + 60 * (xx / w) + 25 * np.sin(yy / 37.0 + rng.uniform(0, 6))
    noise = cv2.GaussianBlur(rng.normal(0, 12, (h, w)), (0, 0), 3)
    frame = np.clip(base + noise, 0, 255).astype(np.uint8)
    big = cv2.resize(face, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
    fh, fw = big.shape
    y, x = int(rng.integers(0, h - fh)), int(rng.integers(0, w - fw))
    frame[y : y + fh, x : x + fw] = big
    return frame


def clip(frame: np.ndarray, rng: np.random.Generator) -> bytes:
    """``frame`` as ``CLIP_FRAMES`` H.264 frames at 30 fps, each with its own sensor noise."""
    from tools.facevideo import encode_video

    noisy = (
        np.clip(frame + rng.normal(0, 2.5, frame.shape), 0, 255).astype(np.uint8)
        for _ in range(CLIP_FRAMES)
    )
    rgb = (np.repeat(f[..., None], 3, axis=2) for f in noisy)
    return encode_video(rgb, 30, options={"preset": "veryfast", "crf": "23"})


def held_out_sets(data: Path, classes: list[str], card_extra: dict) -> dict[str, list]:
    """``{set name: [(path, class), ...]}`` for CK+ held-out subjects and FER+ valid."""
    held = set(card_extra.get("evaluation", {}).get("held_out_subject_ids", []))
    sets: dict[str, list] = {"ckplus5": [], "ferplus": []}
    ck, fer = data / "ckplus5", data / "ferplus" / "valid"
    for c in classes:
        for p in sorted((ck / c).glob("*")):
            m = re.match(DEFAULT_SUBJECT_RE, p.name)
            if m and m.group(1) in held:
                sets["ckplus5"].append((p, c))
        sets["ferplus"].extend((p, c) for p in sorted((fer / c).glob("*")))
    return {k: v for k, v in sets.items() if v}


def requests_for(mode: str, grey: np.ndarray, rng: np.random.Generator) -> tuple[bytes, dict]:
    """The upload and query parameters of one face in ``mode``."""
    if mode == "crop":
        return png(grey), {"detect_faces": "false"}
    if mode == "frame":
        return png(in_frame(grey, rng)), {}
    if mode == "as-is":
        return png(grey), {}
    if mode == "clip":
        return clip(in_frame(grey, rng), rng), {"sample_interval": "0"}
    raise ValueError(f"unknown mode {mode!r} ({', '.join(MODES)})")


def answers(client: Any, model: str, version: int, mode: str, items: list, seed: int) -> Iterator:
    """``(probabilities or None, face box or None)`` of each item's answer."""
    rng = np.random.default_rng(seed)
    suffix, kind = (".mp4", "video/mp4") if mode == "clip" else (".png", "image/png")
    for path, _ in items:
        upload, params = requests_for(mode, read_grey(path), rng)
        r = client.post(
            "/v1/predict",
            params={"model": model, "version": str(version), **params},
            files={"file": (Path(path).stem + suffix, upload, kind)},
        )
        r.raise_for_status()
        answer = r.json()
        if mode != "clip":
            frame = answer["frames"][0]
            yield frame["probabilities"], frame["face"]
            continue
        summary = answer["summary"]
        counts, mean = summary["label_counts"], summary["mean_probabilities"]
        if not counts:
            yield None, None
            continue
        # The label most frames give (ties: the higher mean probability), the rest class
        # counted like any other; the mean probabilities, shifted to rank it first.
        label = max(counts, key=lambda c: (counts[c], mean[c]))
        probs = {c: (1.0 + v if c == label else v) / 2.0 for c, v in mean.items()}
        yield probs, {"faces": summary["frames_with_face"]}


def score(classes: list[str], rest: str | None, items: list, got: list) -> dict:
    """Metrics over every face, a face not found scored as the rest class (probability 1)."""
    k = len(classes)
    probs = np.zeros((len(items), k))
    found = np.zeros(len(items), dtype=bool)
    for i, (p, _) in enumerate(got):
        if p is not None:
            probs[i] = [p[c] for c in classes]
            found[i] = True
        elif rest is not None:
            probs[i, classes.index(rest)] = 1.0
    y = np.asarray([classes.index(c) for _, c in items])
    m = compute_metrics(y, probs.argmax(1), classes, probs, rest)
    m["found"] = int(found.sum())
    m["images"] = len(items)
    return m


def evaluate(
    repository: Path, data: Path, model: str, version: int | None, modes: list[str], seed: int
) -> dict:
    from fastapi.testclient import TestClient

    from model_artifact import ModelRepository
    from service.app import create_app
    from service.settings import Settings

    card_version = ModelRepository(repository).load(model, version)
    card = card_version.card
    classes, rest = list(card.classes), card.rest_class
    sets = held_out_sets(data, classes, card.model_extra or {})
    settings = Settings(model_repository=repository)
    out: dict = {
        "model": model,
        "version": card_version.version,
        "seed": seed,
        "image_detector": settings.image_detector,
        "embedded_runtime": settings.embedded_runtime,
        "sets": {},
    }
    with TestClient(create_app(settings)) as client:
        for name, items in sets.items():
            out["sets"][name] = {
                mode: score(
                    classes,
                    rest,
                    items,
                    list(answers(client, model, card_version.version, mode, items, seed)),
                )
                for mode in modes
            }
    return out


def runtime_of(result: dict) -> str:
    """The embedded runtime a record was measured on (records before int8 ran ``tflite``)."""
    return str(result.get("embedded_runtime", "tflite"))


def summary_lines(result: dict) -> list[str]:
    """One row per set and mode: found, accuracy, macro-F1, expressions, neutral rate."""
    lines = [
        f"{result['model']} v{result['version']} through POST /v1/predict, image search "
        f"`MMED_IMAGE_DETECTOR={result.get('image_detector', 'haar')}`, "
        f"`MMED_EMBEDDED_RUNTIME={runtime_of(result)}` (`python -m training.api_eval`):",
        "",
        "| set | mode | found | accuracy | macro-F1 | expressions: accuracy / macro-F1 "
        "| rest class kept | expressions called rest |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, modes in result["sets"].items():
        for mode, m in modes.items():
            e = m.get("expressions", {}).get("argmax_all", {})
            rr, er = m.get("rest_rate"), m.get("expression_as_rest")
            lines.append(
                f"| {name} | {mode} | {m['found']} / {m['images']} | {m['accuracy']:.3f} | "
                f"{m['macro_f1']:.3f} | {e.get('accuracy', float('nan')):.3f} / "
                f"{e.get('macro_f1', float('nan')):.3f} | "
                f"{'—' if rr is None else f'{rr:.3f}'} | {'—' if er is None else f'{er:.3f}'} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.api_eval", description=__doc__)
    ap.add_argument("--repository", type=Path, default=Path("model_repository"))
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--model", default="micro-cnn")
    ap.add_argument("--version", type=int, default=None, help="default: the latest")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="default docs/results/api-<m>-v<N>.json")
    args = ap.parse_args(argv)
    for name in ("httpx", "mmed"):  # one log line per request otherwise
        logging.getLogger(name).setLevel(logging.WARNING)
    modes = [m for m in args.modes.split(",") if m]
    bad = sorted(set(modes) - set(MODES))
    if bad:
        ap.error(f"unknown modes {bad} ({', '.join(MODES)})")
    if not (args.data / "ckplus5").is_dir() and not (args.data / "ferplus").is_dir():
        ap.error(f"no ckplus5/ or ferplus/ under {args.data}")
    result = evaluate(args.repository, args.data, args.model, args.version, modes, args.seed)
    suffix = "" if result["image_detector"] == "blazeface" else f"-{result['image_detector']}"
    suffix += "" if runtime_of(result) == "tflite" else f"-{runtime_of(result)}"
    stem = f"api-{result['model']}-v{result['version']}{suffix}"
    out = args.out or Path("docs/results") / f"{stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print("\n".join(summary_lines(result)))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
