"""Contract C2: the summary's dominant label is the dominant expression, not the rest class;
contract C1: cards with and without a rest class."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from model_artifact import ModelCard
from service.pipeline import summarise
from service.schemas import Face, FrameResult

CLASSES = ["anger", "happiness", "neutral"]


def frames(labels: list[str | None]) -> tuple[list[FrameResult], list[np.ndarray]]:
    out, probs = [], []
    for i, label in enumerate(labels):
        if label is None:
            out.append(
                FrameResult(
                    index=i,
                    timestamp_s=i,
                    face=None,
                    label=None,
                    confidence=None,
                    probabilities=None,
                )
            )
            continue
        p = np.full(3, 0.1, dtype=np.float32)
        p[CLASSES.index(label)] = 0.8
        probs.append(p)
        out.append(
            FrameResult(
                index=i,
                timestamp_s=i,
                face=Face(x=0, y=0, w=9, h=9, score=1.0),
                label=label,
                confidence=0.8,
                probabilities=dict(zip(CLASSES, p.tolist(), strict=True)),
            )
        )
    return out, probs


def test_dominant_label_skips_the_rest_class() -> None:
    f, p = frames(["neutral", "neutral", "neutral", "happiness", None, "anger", "happiness"])
    s = summarise(CLASSES, f, p, rest_class="neutral")
    assert s.label_counts == {"anger": 1, "happiness": 2, "neutral": 3}
    assert s.dominant_label == "happiness"
    # without a rest class (v1 models) the plain mode wins
    assert summarise(CLASSES, f, p).dominant_label == "neutral"


def test_rest_class_only_when_nothing_else_and_none_without_faces() -> None:
    f, p = frames(["neutral", None, "neutral"])
    assert summarise(CLASSES, f, p, rest_class="neutral").dominant_label == "neutral"
    f, p = frames([None, None])
    s = summarise(CLASSES, f, p, rest_class="neutral")
    assert s.dominant_label is None and s.label_counts == {}


def test_expression_ties_go_to_the_higher_mean_probability() -> None:
    f, p = frames(["anger", "happiness", "neutral", "neutral"])
    p[1] = np.asarray([0.05, 0.9, 0.05], dtype=np.float32)  # happiness more confident
    assert summarise(CLASSES, f, p, rest_class="neutral").dominant_label == "happiness"


CARD = {
    "name": "micro-cnn",
    "version": 2,
    "task": "micro",
    "arch": "cnn",
    "classes": ["anger", "contempt", "disgust", "happiness", "sadness", "neutral"],
    "input": {"height": 48, "width": 48},
    "face_region": "full",
    "training": {
        "dataset": "x",
        "split": "subject",
        "seed": 0,
        "epochs": 1,
        "image_count": 1,
        "subjects": 1,
    },
    "metrics": {"accuracy": 0.5, "macro_f1": 0.5, "per_class": {}},
}


def test_cards_with_and_without_a_rest_class() -> None:
    assert ModelCard.model_validate({**CARD, "rest_class": "neutral"}).rest_class == "neutral"
    v1 = {**CARD, "version": 1, "classes": CARD["classes"][:5]}
    assert ModelCard.model_validate(v1).rest_class is None
    with pytest.raises(ValidationError, match="not one of the classes"):
        ModelCard.model_validate({**v1, "rest_class": "neutral"})
    with pytest.raises(ValidationError, match="rest_class of a micro model"):
        ModelCard.model_validate({**CARD, "rest_class": "none"})
