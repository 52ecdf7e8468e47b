"""Inference cost of exported versions: predict milliseconds per face, as the embedded backend
runs them (``tf.saved_model.load`` → ``serving_default`` on a uint8 batch, CPU).

The versions are timed round-robin in one process, so a loaded machine slows them alike and
their *ratio* is the figure to quote (absolute milliseconds depend on the load).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from model_artifact.card import INPUT_KEY, SIGNATURE
from training.export import read_card


def predict_ms_per_face(
    version_dirs: list[Path], batch: int = 32, rounds: int = 30, warmup: int = 3
) -> dict[str, float]:
    """Median milliseconds per face of each exported version directory (batch ``batch``)."""
    import tensorflow as tf

    fns, inputs = {}, {}
    rng = np.random.default_rng(0)
    for path in version_dirs:
        card = read_card(path)
        shape = (batch, card["input"]["height"], card["input"]["width"], 1)
        fns[str(path)] = tf.saved_model.load(str(path)).signatures[SIGNATURE]
        inputs[str(path)] = tf.constant(rng.integers(0, 256, size=shape, dtype=np.uint8))
    times: dict[str, list[float]] = {key: [] for key in fns}
    for i in range(warmup + rounds):
        for key, fn in fns.items():
            started = time.perf_counter()
            fn(**{INPUT_KEY: inputs[key]})
            if i >= warmup:
                times[key].append(time.perf_counter() - started)
    return {key: 1000 * float(np.median(t)) / batch for key, t in times.items()}
