"""Classifier re-training on frozen features (cRT; Kang et al., "Decoupling Representation and
Classifier for Long-Tailed Recognition", ICLR 2020): a saved run keeps its network and gets a
new final layer.

The micro networks under-fit the rare classes even on their own training images (v5 seed 0
called 5 of FER+ train's 120 contempt faces contempt, 17 of its 116 disgust faces disgust),
so the features may separate what the jointly trained softmax layer does not. The new layer
is a multinomial logistic regression on the penultimate features of the run's fit split
(never its validation split or held-out data), each image weighted by its class
(balanced ** ``CLASS_POWER``) and by its dataset's training repeats times ``ck_extra`` (CK+
is repeated in training; without the weight the layer forgets it). Its coefficients are the
final Dense layer's weights (softmax of ``W x + b``: the same function), and the run's
calibration (temperature, neutral offset) is refitted on the validation split as training
does.

Selection (``GRID``), fixed before any held-out figure was looked at: the variant with the
highest validation FER+ 5-expression macro-F1 whose validation CK+ accuracy is at most one
image below the original layer's; none qualifying keeps the original layer.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from model_artifact import REST_CLASS
from training import calibration
from training.evaluate import predict_probs
from training.pipeline import (
    RunResult,
    _calibrate,
    _finish,
    held_out_metrics,
    load,
    load_run,
    save_run,
    split_by_source,
    validation_split,
)

log = logging.getLogger(__name__)

CLASS_POWER = 0.5
GRID = [(extra, c) for extra in (1, 2, 4) for c in (0.01, 0.03)]  # (ck_extra, C)
FER, CK = "ferplus", "ckplus5"


@dataclass(frozen=True)
class Choice:
    ck_extra: int | None  # None: the run's own layer kept
    c: float | None
    val_fer_macro_f1: float
    val_ck_accuracy: float


def _expr(per: dict, name: str, key: str) -> float:
    return float(per[name]["expressions"]["argmax_all"][key])


def rehead(run_dir: Path, grid: list[tuple[int, float]] | None = None) -> tuple[RunResult, Choice]:
    """The run with its final layer re-trained (or kept, see the module docstring), calibrated
    and evaluated as ``training.pipeline`` does; and what was chosen."""
    from sklearn.linear_model import LogisticRegression

    started = time.perf_counter()
    config, info, model = load_run(run_dir)
    if not config.calibrate or config.calibration != "temperature-rest":
        raise ValueError(f"{run_dir}: rehead needs a temperature-rest calibrated run")
    ds = load(config, classes=list(info["classes"]))
    train_index, test_index = split_by_source(ds, config.split, config.test_size, config.seed)
    if [str(ds.paths[i]) for i in test_index] != info["test_files"]:
        raise ValueError(f"the data no longer gives {run_dir}'s held-out split")
    fit_index, val_index = validation_split(ds, train_index, config)
    if val_index is None or {FER, CK} - set(ds.sources[val_index]):
        raise ValueError("rehead selects on the CK+ and FER+ validation splits: both needed")
    base = calibration.without_temperature(model)
    head = base.layers[-1]
    if not isinstance(head, keras.layers.Dense) or head.get_config()["activation"] != "softmax":
        raise ValueError(f"{run_dir}: the network does not end in a softmax Dense layer")
    features = keras.Model(base.inputs, head.input)

    def validation_of(probs: np.ndarray) -> dict:
        """Per-dataset validation metrics of these probabilities, calibrated as training does."""
        temperature, bias = _calibrate(config, ds, probs, ds.labels[val_index])
        calibrated = calibration.temper(probs, temperature, np.asarray(bias))
        return held_out_metrics(ds, val_index, calibrated, REST_CLASS[config.task])[1]

    own = validation_of(predict_probs(base, ds.images[val_index]))
    n_ck = int((ds.sources[val_index] == CK).sum())
    floor = _expr(own, CK, "accuracy") - 1.0 / n_ck - 1e-9
    choice = Choice(None, None, _expr(own, FER, "macro_f1"), _expr(own, CK, "accuracy"))
    # The features once; a variant's layer is its regression (softmax of W x + b, as the Dense).
    x, x_val = (predict_probs(features, ds.images[i]) for i in (fit_index, val_index))
    y = ds.labels[fit_index]
    counts = np.bincount(y, minlength=len(ds.classes))
    class_w = (len(y) / (len(counts) * np.maximum(counts, 1))) ** CLASS_POWER
    repeats = np.array([float(config.oversample.get(str(s), 1)) for s in ds.sources[fit_index]])
    best_weights: list[np.ndarray] | None = None
    for extra, c in grid or GRID:
        src_w = np.where(ds.sources[fit_index] == CK, extra * repeats, repeats)
        lr = LogisticRegression(C=c, max_iter=3000).fit(x, y, sample_weight=class_w[y] * src_w)
        per = validation_of(lr.predict_proba(x_val))
        f1, ck = _expr(per, FER, "macro_f1"), _expr(per, CK, "accuracy")
        log.info("ck x%d C=%g: validation FER+ macro-F1 %.3f, CK+ accuracy %.3f", extra, c, f1, ck)
        if ck >= floor and (best_weights is None or f1 > choice.val_fer_macro_f1):
            choice = Choice(extra, c, f1, ck)
            best_weights = [lr.coef_.T.astype("float32"), lr.intercept_.astype("float32")]
    if best_weights is not None:
        head.set_weights(best_weights)
    history = dict(info["history"])
    history["rehead"] = {
        "from": str(run_dir),
        "method": "cRT (logistic regression on frozen features)",
        "class_weight_power": CLASS_POWER,
        "ck_extra": choice.ck_extra,
        "C": choice.c,
    }
    result = _finish(config, base, ds, train_index, test_index, val_index, history, started)
    return result, choice


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rehead", help="re-train a saved run's final layer on its frozen features (cRT)"
    )
    p.add_argument("--run", required=True, help="a run directory from `train`")
    p.add_argument("--out", required=True, help="the new run directory")


def cmd_rehead(args: argparse.Namespace) -> int:
    result, choice = rehead(Path(args.run))
    save_run(result, Path(args.out))
    kept = (
        "the run's own layer kept"
        if choice.ck_extra is None
        else (f"CK+ x{choice.ck_extra}, C={choice.c}")
    )
    print(
        f"{kept}: validation FER+ 5-expression macro-F1 {choice.val_fer_macro_f1:.3f}, "
        f"CK+ accuracy {choice.val_ck_accuracy:.3f}; saved to {args.out}"
    )
    return 0
