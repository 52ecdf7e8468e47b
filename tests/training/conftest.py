"""Shared fixtures of the training tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def tiny_run_config(make_image_folder) -> Callable[..., Any]:
    """Factory: a ``RunConfig`` for a one-epoch run on a fresh 3-class synthetic folder (6
    subjects x 3 images a class), calibrated; keyword arguments override its fields."""
    from training import pipeline
    from training.train import FitOptions

    def make(**overrides: Any) -> pipeline.RunConfig:
        data: Path = make_image_folder(["anger", "happiness", "neutral"], subjects=6, per_subject=3)
        fields: dict[str, Any] = {
            "data": str(data),
            "seed": 0,
            "test_size": 0.34,
            "val_size": 0.25,
            "calibrate": True,
            "fit": FitOptions(epochs=1, batch_size=16, augment=False, verbose=0),
            **overrides,
        }
        return pipeline.RunConfig(**fields)

    return make


@pytest.fixture(scope="session")
def two_set_run_config(make_image_folder) -> Callable[..., Any]:
    """Factory: ``(RunConfig, (ckplus5, ferplus))`` for a one-epoch run on two fresh 3-class
    synthetic folders named as the shipped data, calibrated with the rest-class temperature,
    CK+ oversampled x2; keyword arguments override its fields."""
    from training import pipeline
    from training.train import FitOptions

    def make(**overrides: Any) -> tuple[pipeline.RunConfig, tuple[Path, Path]]:
        classes = ["anger", "happiness", "neutral"]
        ck = make_image_folder(classes, subjects=6, per_subject=3)
        fer = make_image_folder(classes, subjects=6, per_subject=3)
        fields: dict[str, Any] = {
            "data": [f"ckplus5={ck}", f"ferplus={fer}"],
            "seed": 0,
            "test_size": 0.34,
            "val_size": 0.25,
            "calibrate": True,
            "calibration": "temperature-rest",
            "rest_min_recall": 0.0,
            "oversample": {"ckplus5": 2},
            "fit": FitOptions(epochs=1, batch_size=16, augment=False, verbose=0),
            **overrides,
        }
        return pipeline.RunConfig(**fields), (ck, fer)

    return make
