"""Do eye-levelled crops help the shipped micro model? ``python -m bench.alignment``

On the model card's held-out sets (CK+ images of its held-out subjects, FER+ valid without
fear and surprise): each 48x48 face crop is upscaled 4x, BlazeFace (whole image) finds its eyes,
and the crop is rotated about the eyes' midpoint so they are level (edges replicated), then
made into the model input exactly as serving does (``face_input``, whole image). Accuracy and
macro-F1 of the plain and the aligned inputs on the same images; images where BlazeFace finds
no face keep their plain crop. The model is fixed, so the spread is a bootstrap over images
(95 % interval of the paired difference). Results: printed, and bench/.cache/alignment.json.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bench.floors import model_runner
from bench.models import repository
from bench.real import _read_grey
from model_artifact import ModelRepository
from model_artifact.model_input import face_input
from service.faces import shared_blazeface

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CACHE = ROOT / "bench" / ".cache"
UPSCALE = 4


def card_sets(card_json: Path) -> dict[str, list[tuple[Path, int]]]:
    """(image, class index) of the card's held-out sets, classes as the card lists them."""
    card = json.loads(card_json.read_text())
    classes = list(card["classes"])
    subjects = set(card.get("evaluation", {}).get("held_out_subject_ids", []))
    out: dict[str, list[tuple[Path, int]]] = {"ckplus5": [], "ferplus/valid": []}
    for path in sorted((DATA / "ckplus5").rglob("*.png")):
        if path.name.split("_")[0] in subjects and path.parent.name in classes:
            out["ckplus5"].append((path, classes.index(path.parent.name)))
    for path in sorted((DATA / "ferplus" / "valid").rglob("*.png")):
        if path.parent.name in classes:
            out["ferplus/valid"].append((path, classes.index(path.parent.name)))
    return out


def aligned(face: np.ndarray) -> tuple[np.ndarray, float | None]:
    """The crop rotated so BlazeFace's eyes are level, and the angle (None: no face found)."""
    big = cv2.resize(face, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
    found = shared_blazeface().detect_frame(big)
    if not found:
        return face, None
    best = max(found, key=lambda d: d.w * d.h)
    (rx, ry), (lx, ly) = best.keypoints[0], best.keypoints[1]  # the subject's right, left eye
    angle = math.degrees(math.atan2(ly - ry, lx - rx))
    centre = ((rx + lx) / 2 / UPSCALE, (ry + ly) / 2 / UPSCALE)
    m = cv2.getRotationMatrix2D(centre, angle, 1.0)
    h, w = face.shape
    out = cv2.warpAffine(face, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out, angle


def scores(truth: np.ndarray, pred: np.ndarray, k: int) -> tuple[float, float]:
    acc = float(np.mean(truth == pred))
    f1s = []
    for c in range(k):
        if not np.any(truth == c):
            continue
        tp = np.sum((pred == c) & (truth == c))
        p = tp / max(1, np.sum(pred == c))
        r = tp / np.sum(truth == c)
        f1s.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
    return acc, float(np.mean(f1s))


def main() -> int:
    repo, _ = repository()
    mv = ModelRepository(repo).load("micro-cnn")
    run = model_runner(mv.path)
    size = (mv.card.input.height, mv.card.input.width)
    k = len(mv.card.classes)
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {"model": f"{mv.name}/{mv.version}", "sets": {}}
    for name, items in card_sets(mv.path / "assets.extra" / "mmed.json").items():
        plain, level, angles = [], [], []
        for path, _ in items:
            face = _read_grey(path)
            rotated, angle = aligned(face)
            plain.append(face_input(face, None, mv.card.face_region, size))
            level.append(face_input(rotated, None, mv.card.face_region, size))
            angles.append(angle)
        truth = np.array([c for _, c in items])
        preds = [
            np.concatenate(
                [run(np.stack(x[i : i + 64])[..., None]).argmax(1) for i in range(0, len(x), 64)]
            )
            for x in (plain, level)
        ]
        found = [a for a in angles if a is not None]
        base, new = scores(truth, preds[0], k), scores(truth, preds[1], k)
        diffs = []
        for _ in range(1000):
            idx = rng.integers(0, len(truth), len(truth))
            diffs.append(
                scores(truth[idx], preds[1][idx], k)[1] - scores(truth[idx], preds[0][idx], k)[1]
            )
        out["sets"][name] = {
            "images": len(items),
            "eyes_found": len(found),
            "median_abs_angle_deg": float(np.median(np.abs(found))) if found else None,
            "plain": {"accuracy": base[0], "macro_f1": base[1]},
            "aligned": {"accuracy": new[0], "macro_f1": new[1]},
            "macro_f1_diff_ci95": [float(np.percentile(diffs, q)) for q in (2.5, 97.5)],
        }
        print(name, json.dumps(out["sets"][name]), file=sys.stderr, flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "alignment.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
