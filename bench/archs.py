"""Per-architecture latency and memory: one subprocess per SavedModel (``python -m bench.archs
DIR``), so each peak RSS is that model's alone. Prints JSON: load seconds, RSS after importing
TensorFlow, peak RSS after loading and running, and batch latencies (31 crops = 15.5 s of
video at 0.5 s sampling, and 1/8/64 for the batching curve)."""

from __future__ import annotations

import json
import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from tools.procfs import status_bytes

BATCHES = (1, 8, 31, 64)


def _call(fn: Any, batch: Any) -> Any:
    from model_artifact.card import INPUT_KEY, OUTPUT_KEY

    return fn(**{INPUT_KEY: batch})[OUTPUT_KEY].numpy()


def measure(model_dir: Path, repeats: int) -> dict:
    import numpy as np
    import tensorflow as tf

    from bench.stats import repeat
    from model_artifact.card import SIGNATURE
    from model_artifact.repository import ModelRepository

    rss_tf = status_bytes("VmRSS")
    t0 = time.perf_counter()
    loaded = tf.saved_model.load(str(model_dir))
    fn = loaded.signatures[SIGNATURE]
    load_s = time.perf_counter() - t0
    card = ModelRepository(model_dir.parents[1]).load(model_dir.parent.name, int(model_dir.name))
    h, w = card.card.input.height, card.card.input.width
    rng = np.random.default_rng(0)
    latency = {}
    for n in BATCHES:
        batch = tf.constant(rng.integers(0, 256, (n, h, w, 1), dtype=np.uint8))
        stats, out = repeat(partial(_call, fn, batch), repeats, 2)
        assert out.shape == (n, len(card.card.classes))
        latency[str(n)] = stats
    return {
        "input": [h, w],
        "load_s": load_s,
        "rss_after_tf_import": rss_tf,
        "peak_rss": status_bytes("VmHWM"),
        "latency": latency,
    }


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    print(json.dumps(measure(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20)))
