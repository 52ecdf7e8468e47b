"""Calibrated confidence of a grouped Haar detection (``face.score``).

A logistic model of ln(neighbours) (raw windows merged into the group) and the largest
last-stage weight of those windows (detectMultiScale3's levelWeights), fitted once per kind of
search by tests/media/calibrate_face_score.py (how, and what it keeps: docs/benchmarks.md,
"Face detection: how the defaults were chosen"). Other search settings change the neighbour
counts: treat the score as a ranking there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# detect() prefers the largest face scoring at least this (a large, weak false positive
# must not win over the real face).
DEFAULT_MIN_SCORE = 0.5


@dataclass(frozen=True)
class ScoreModel:
    """Logistic confidence of a grouped detection from its neighbours and level weight."""

    log_neighbours: float
    level_weight: float
    bias: float

    def __call__(self, neighbours: int, level_weight: float) -> float:
        z = (
            self.log_neighbours * math.log(max(neighbours, 1))
            + self.level_weight * level_weight
            + self.bias
        )
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


# The detector's own search: the whole frame at full resolution, scale steps 1.1.
FULL_SEARCH = ScoreModel(log_neighbours=2.499, level_weight=0.630, bias=-8.735)
# FaceTracker's search in a small window around a previous box, the face at 48 px.
WINDOW_SEARCH = ScoreModel(log_neighbours=2.745, level_weight=0.415, bias=-7.019)


@dataclass(frozen=True)
class LogitScore:
    """Calibrated confidence of a detector's raw score: a logistic model of its logit."""

    slope: float
    bias: float

    def __call__(self, raw: float) -> float:
        raw = min(max(raw, 1e-7), 1.0 - 1e-7)
        z = self.slope * math.log(raw / (1.0 - raw)) + self.bias
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


# BlazeFace's boxes in Haar's framing (service.faces.tracker), whole-frame and around-the-face
# searches: tests/media/calibrate_face_score.py blazeface (523 faces / 1290 other detections;
# at score >= 0.5 it keeps 91.8 % of the faces and 1.9 % of the rest).
BLAZEFACE = LogitScore(slope=2.105, bias=0.504)
