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
