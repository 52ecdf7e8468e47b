"""``python -m training quantize``: an int8 companion for an exported version (CPU serving).

Full-integer post-training quantization of the serving signature (``tf.lite``, fixed activation
ranges), calibrated on ``--calibration`` seeded crops of the version's own *training* split;
then measured against the float model on every held-out image of the version (the card's
split, rebuilt from its data and checked against the card's held-out count), per dataset: the
share of faces given the same label, the largest and mean probability difference, accuracy and
macro-F1 of both. Its CPU cost per face is measured beside the float conversion's in the same
run. Writes ``assets.extra/int8.tflite`` and ``assets.extra/int8.json``
(``model_artifact.quantized``); the SavedModel and its card are not touched.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf
from sklearn.metrics import f1_score

from model_artifact.card import INPUT_KEY, SIGNATURE
from model_artifact.quantized import (
    INT8_META_PATH,
    INT8_PATH,
    Int8Agreement,
    Int8Calibration,
    Int8Companion,
    Int8Cost,
    probe_batch,
    renormalised,
    savedmodel_digest,
)
from training.unexport import version_arguments, version_data

log = logging.getLogger(__name__)

CALIBRATION_IMAGES = 500
PROBE_SEED = 0
COST_ROUNDS = 7


def convert(version_dir: Path, calibration: np.ndarray | None = None) -> bytes:
    """The serving signature as TFLite: float (``calibration`` None, what the embedded
    ``tflite`` runtime converts) or full-integer int8 calibrated on ``calibration`` (uint8
    ``[N, H, W, 1]``)."""
    converter = tf.lite.TFLiteConverter.from_saved_model(
        str(version_dir), signature_keys=[SIGNATURE]
    )
    if calibration is not None:
        rows = calibration

        def representative() -> object:
            for i in range(len(rows)):
                yield {INPUT_KEY: rows[i : i + 1]}

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
    return converter.convert()


def interpreter(
    flatbuffer: bytes, threads: int, int8: bool = False
) -> Callable[[np.ndarray], np.ndarray]:
    """``uint8 [N, H, W, 1] -> float32 [N, K]`` through a TFLite interpreter (batches of 32);
    an ``int8`` flatbuffer's rows renormalised as the ``int8`` runtime does."""
    it = tf.lite.Interpreter(model_content=flatbuffer, num_threads=threads)
    runner = it.get_signature_runner(SIGNATURE)

    def run(images: np.ndarray) -> np.ndarray:
        outs = [
            next(iter(runner(**{INPUT_KEY: np.ascontiguousarray(images[i : i + 32])}).values()))
            for i in range(0, len(images), 32)
        ]
        probs = np.concatenate(outs).astype(np.float32)
        return renormalised(probs) if int8 else probs

    return run


def agreement(float_probs: np.ndarray, int8_probs: np.ndarray, labels: np.ndarray) -> Int8Agreement:
    """The int8 answers against the float ones and both against the labels (arg-max)."""
    pf, pq = float_probs.argmax(1), int8_probs.argmax(1)
    present = np.unique(labels)
    diff = np.abs(float_probs - int8_probs)
    return Int8Agreement(
        images=len(labels),
        label_agreement=float(np.mean(pf == pq)),
        max_abs_diff=float(diff.max()),
        mean_abs_diff=float(diff.mean()),
        accuracy_float=float(np.mean(pf == labels)),
        accuracy_int8=float(np.mean(pq == labels)),
        macro_f1_float=float(f1_score(labels, pf, labels=present, average="macro")),
        macro_f1_int8=float(f1_score(labels, pq, labels=present, average="macro")),
    )


def cpu_per_face(
    runs: dict[str, Callable],
    batch: np.ndarray,
    rounds: int = COST_ROUNDS,
    clock: Callable[[], float] = time.process_time,
) -> dict[str, float]:
    """Median process CPU ms per face of each runner on ``batch``, alternating rounds
    (``clock=time.perf_counter``: wall ms)."""
    times: dict[str, list[float]] = {k: [] for k in runs}
    for run in runs.values():
        run(batch)  # warm-up
    for _ in range(rounds):
        for name, run in runs.items():
            c0 = clock()
            run(batch)
            times[name].append((clock() - c0) / len(batch) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def quantize(
    version_dir: Path,
    data: list[str] | None = None,
    calibration: int = CALIBRATION_IMAGES,
    seed: int = 0,
) -> tuple[Int8Companion, bytes]:
    """The version's int8 companion, measured, and its flatbuffer (``write`` stores them)."""
    version_dir = Path(version_dir)
    vd = version_data(version_dir, data)
    card, ds, train_index, test_index = vd.card, vd.ds, vd.train_index, vd.test_index
    rng = np.random.default_rng(seed)
    chosen = rng.choice(train_index, min(calibration, len(train_index)), replace=False)
    calib = ds.images[np.sort(chosen)][..., None]
    float_fb, int8_fb = convert(version_dir), convert(version_dir, calib)
    run_float, run_int8 = interpreter(float_fb, 1), interpreter(int8_fb, 1, int8=True)
    held, labels = ds.images[test_index][..., None], ds.labels[test_index]
    pf, pq = run_float(held), run_int8(held)
    sources = ds.sources[test_index]
    per = {}
    for name in dict.fromkeys(sources):
        m = sources == name
        per[str(name) or "held-out"] = agreement(pf[m], pq[m], labels[m])
    cost = cpu_per_face({"float": run_float, "int8": run_int8}, held[:32])
    probe = probe_batch(card["input"]["height"], card["input"]["width"], PROBE_SEED)
    return Int8Companion(
        sha256=hashlib.sha256(int8_fb).hexdigest(),
        savedmodel_sha256=savedmodel_digest(version_dir),
        tensorflow=tf.__version__,
        calibration=Int8Calibration(
            images=len(chosen), seed=seed, source="training split (no held-out image)"
        ),
        agreement=per,
        cost=Int8Cost(float_ms_per_face=cost["float"], int8_ms_per_face=cost["int8"], threads=1),
        probe_seed=PROBE_SEED,
        probe_output=run_int8(probe).round(6).tolist(),
    ), int8_fb


def write(version_dir: Path, meta: Int8Companion, flatbuffer: bytes) -> None:
    """Store the companion (flatbuffer first, its description last, each via a rename)."""
    description = (meta.model_dump_json(indent=2) + "\n").encode()
    for rel, content in ((INT8_PATH, flatbuffer), (INT8_META_PATH, description)):
        target = Path(version_dir) / rel
        tmp = target.with_name(f".{target.name}.{os.getpid()}")
        tmp.write_bytes(content)
        tmp.replace(target)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "quantize", help="write an int8 companion (measured on held-out faces) for a version"
    )
    version_arguments(p)
    p.add_argument("--calibration", type=int, default=CALIBRATION_IMAGES)
    p.add_argument("--seed", type=int, default=0, help="which training crops calibrate")
    p.add_argument("--force", action="store_true", help="replace an existing companion")


def cmd_quantize(args: argparse.Namespace) -> int:
    version_dir = Path(args.version)
    if (version_dir / INT8_META_PATH).exists() and not args.force:
        print(f"{version_dir} already has an int8 companion (--force replaces it)")
        return 2
    meta, flatbuffer = quantize(version_dir, args.data, args.calibration, args.seed)
    write(version_dir, meta, flatbuffer)
    for name, a in meta.agreement.items():
        print(
            f"{name}: {a.images} held-out faces, same label {a.label_agreement:.4f}, "
            f"accuracy {a.accuracy_float:.4f} -> {a.accuracy_int8:.4f}, macro-F1 "
            f"{a.macro_f1_float:.4f} -> {a.macro_f1_int8:.4f}, max |dp| {a.max_abs_diff:.3f}"
        )
    c = meta.cost
    print(
        f"CPU per face (1 thread): float {c.float_ms_per_face:.3f} ms, int8 "
        f"{c.int8_ms_per_face:.3f} ms ({c.float_ms_per_face / c.int8_ms_per_face:.1f}x less)"
    )
    return 0
