"""Reproduce the face-score constants in service/faces/calibration.py (not a test; run by hand).

    .venv/bin/python tests/media/calibrate_face_score.py          # FULL_SEARCH
    .venv/bin/python tests/media/calibrate_face_score.py window   # WINDOW_SEARCH
    .venv/bin/python tests/media/calibrate_face_score.py blazeface   # BLAZEFACE

Pastes real faces (CK+ crops from <repo>/../shared/data/ckplus5, and scikit-image's astronaut
photo) at random sizes and places into 240p-720p frames over plain or textured backgrounds
(scikit-image's non-face images), runs the detector's Haar stage with min_neighbors=1, labels
each grouped detection by IoU > 0.4 with the pasted face, and fits a class-balanced logistic
regression (scikit-learn, from the project's `train` extra) of face vs not-face on
(ln neighbours, last-stage level weight). Prints the constants and the score distributions.

``window``: the same frames, but the evidence is FaceTracker's window search (min_neighbors=1)
around each full-search detection, the box shifted by up to 10 % and resized by up to 10 % as
between two frames, with the window and size tolerance of tracked frames or of a keyframe's
confirmation drawn at random.

``blazeface``: the same frames through BlazeFace (raw score >= 0.1), on the whole frame and on
the square FaceTracker confirms a face in (2 box sizes, moved and resized a little), each
detection in Haar's framing (``blazeface_box``) labelled by IoU > 0.4; the feature is the
logit of BlazeFace's raw score.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from skimage import color, data
from sklearn.linear_model import LogisticRegression

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from service.faces import FaceBox, FaceDetector  # noqa: E402
from service.faces import HaarTracker as FaceTracker  # noqa: E402
from service.faces.blazeface import BlazeFace  # noqa: E402
from service.faces.tracker import blazeface_box  # noqa: E402

CKPLUS = REPO / ".." / "shared" / "data" / "ckplus5"
# No human frontal faces in these (the cameraman photo is left out for that reason).
BACKGROUNDS = [
    "brick", "grass", "coffee", "chelsea", "rocket", "text", "page", "coins", "gravel",
    "hubble_deep_field", "immunohistochemistry", "logo", "horse", "clock", "retina", "cell",
    "cat", "moon",
]  # fmt: skip
ASTRONAUT_FACE = (182, 75, 88, 100)  # as in media_helpers.py


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 3:
        image = (color.rgb2gray(image[..., :3]) * 255).astype(np.uint8)
    if image.dtype != np.uint8:
        image = (image.astype(float) / max(1, image.max()) * 255).astype(np.uint8)
    return image


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return iw * ih / (a[2] * a[3] + b[2] * b[3] - iw * ih)


def collect(seed: int = 0, window: bool = False, blaze: bool = False) -> np.ndarray:
    """Rows (is_face, neighbours, level_weight, width_px); ``blaze``: (is_face, raw score,
    0, width_px)."""
    rng = np.random.default_rng(seed)
    blazeface = BlazeFace(min_score=0.1) if blaze else None
    detector = FaceDetector(min_neighbors=1, min_score=0.0)
    tracker = FaceTracker(detector)
    backgrounds: list[np.ndarray | None] = [_grey(getattr(data, n)()) for n in BACKGROUNDS]
    backgrounds.append(None)
    crops = [np.asarray(Image.open(f).convert("L")) for f in sorted(CKPLUS.glob("*/*.png"))[::4]]
    astronaut = _grey(data.astronaut())
    sources: list[np.ndarray | None] = crops + crops + [None] * 80
    rows = []
    for k, crop in enumerate(sources):
        height = (240, 360, 480, 720)[k % 4]
        width = height * 4 // 3
        bg = backgrounds[k % len(backgrounds)]
        if bg is None:
            frame = np.full((height, width), 110, np.uint8)
        else:
            frame = cv2.resize(bg, (width, height), interpolation=cv2.INTER_AREA)
        if crop is None:  # the whole astronaut photo; its face is about a fifth of it
            side = int(min(height, width) * np.exp(rng.uniform(np.log(0.55), 0)))
            photo, scale = astronaut, side / 512
            fx, fy, fw, fh = ASTRONAUT_FACE
        else:  # a CK+ crop is the face
            side = max(26, int(height * np.exp(rng.uniform(np.log(0.11), np.log(0.6)))))
            photo, scale = crop, 1.0
            fx, fy, fw, fh = 0, 0, side, side
        x0 = int(rng.integers(0, width - side + 1))
        y0 = int(rng.integers(0, height - side + 1))
        frame[y0 : y0 + side, x0 : x0 + side] = cv2.resize(
            photo, (side, side), interpolation=cv2.INTER_AREA
        )
        truth = (x0 + fx * scale, y0 + fy * scale, fw * scale, fh * scale)
        if blazeface is not None:
            rows += _blaze_rows(blazeface, frame, truth, rng)
            continue
        for c in detector.candidates(frame):
            found = [c] if not window else _window_search(tracker, frame, c, rng)
            for f in found:
                is_face = _iou((f.x, f.y, f.w, f.h), truth) > 0.4
                rows.append((is_face, f.neighbours, f.level_weight, f.w))
    return np.array(rows, dtype=float)


def _blaze_rows(bf: BlazeFace, frame: np.ndarray, truth, rng: np.random.Generator) -> list:
    height, width = frame.shape
    side = 2.0 * truth[2] * np.exp(rng.uniform(np.log(0.9), np.log(1.1)))
    cx = truth[0] + truth[2] / 2 + rng.uniform(-0.1, 0.1) * truth[2]
    cy = truth[1] + truth[3] / 2 + rng.uniform(-0.1, 0.1) * truth[3]
    found = bf.detect_frame(frame) + bf.detect_square(
        frame, round(cx - side / 2), round(cy - side / 2), round(side)
    )
    rows = []
    for d in found:
        b = blazeface_box(d, width, height)
        rows.append((_iou((b.x, b.y, b.w, b.h), truth) > 0.4, d.score, 0.0, b.w))
    return rows


def _window_search(tracker: FaceTracker, frame: np.ndarray, c, rng: np.random.Generator) -> list:
    """FaceTracker's window search around ``c`` moved and resized as between two frames."""
    side = c.w * np.exp(rng.uniform(np.log(0.9), np.log(1.1)))
    x = c.x + c.w / 2 + rng.uniform(-0.1, 0.1) * c.w - side / 2
    y = c.y + c.h / 2 + rng.uniform(-0.1, 0.1) * c.h - side / 2
    last = FaceBox(round(x), round(y), round(side), round(side), 1.0)
    if rng.random() < 0.5:  # a tracked frame: 1/30 s to 0.5 s since the previous one
        win = min(tracker.window, tracker.min_window + rng.uniform(1 / 30, 0.5))
        return tracker.window_candidates(frame, last, win, tracker.size_tolerance)
    return tracker.window_candidates(frame, last, tracker.refine_window, tracker.refine_tolerance)


def main() -> None:
    if not CKPLUS.is_dir():
        sys.exit(f"CK+ data not found at {CKPLUS}")
    window = sys.argv[1:] == ["window"]
    blaze = sys.argv[1:] == ["blazeface"]
    rows = collect(window=window, blaze=blaze)
    y = rows[:, 0]
    if blaze:
        raw = np.clip(rows[:, 1], 1e-7, 1 - 1e-7)
        features = np.log(raw / (1 - raw))[:, None]
    else:
        features = np.c_[np.log(rows[:, 1]), rows[:, 2]]
    model = LogisticRegression(class_weight="balanced", C=1.0, max_iter=1000).fit(features, y)
    bias = model.intercept_[0]
    print(f"faces {int(y.sum())}, other detections {int((1 - y).sum())}")
    if blaze:
        print(f"BLAZEFACE = LogitScore(slope={model.coef_[0][0]:.3f}, bias={bias:.3f})")
    else:
        (a, b) = model.coef_[0]
        name = "WINDOW_SEARCH" if window else "FULL_SEARCH"
        print(f"{name} = ScoreModel(log_neighbours={a:.3f}, level_weight={b:.3f}, bias={bias:.3f})")
    score = model.predict_proba(features)[:, 1]
    for lo, hi in [(0, 40), (40, 60), (60, 100), (100, 10_000)]:
        sel = (rows[:, 3] >= lo) & (rows[:, 3] < hi)
        pos, neg = score[sel & (y == 1)], score[sel & (y == 0)]
        print(
            f"width {lo}-{hi}px: faces {len(pos)} (5th pct score "
            f"{np.percentile(pos, 5) if len(pos) else float('nan'):.2f}), others {len(neg)} "
            f"(95th pct {np.percentile(neg, 95) if len(neg) else float('nan'):.2f})"
        )
    for threshold in (0.3, 0.5, 0.7):
        tpr, fpr = (score[y == 1] >= threshold).mean(), (score[y == 0] >= threshold).mean()
        print(f"score >= {threshold}: faces kept {tpr:.3f}, other detections kept {fpr:.3f}")


if __name__ == "__main__":
    main()
