"""An exported version turned back into a training run: the SavedModel's weights in the
network its card's recipe builds, and the card's calibration, so ``rehead``, ``evaluate``,
``record`` and ``export`` work from a model repository alone (a shipped version's training
run need not be kept).

Nothing is taken on trust: the rebuilt network must give the SavedModel's probabilities,
and the data (the card's ``recipe.data``, or ``data`` given here) must give the card's
held-out images and the card's held-out metrics, else the run is refused.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from dataclasses import dataclass, fields
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from training import archs, calibration
from training.data import Dataset
from training.evaluate import card_metrics
from training.export import read_card
from training.pipeline import (
    RunConfig,
    RunResult,
    cnn_options,
    evaluated_run,
    load,
    save_run,
    split_by_source,
    validation_split,
)
from training.train import FitOptions

log = logging.getLogger(__name__)

_RUN_FIELDS = {f.name for f in fields(RunConfig)} - {"fit", "data"}
_FIT_FIELDS = {f.name for f in fields(FitOptions)}
_PROBE = 16  # random crops the rebuilt network must answer as the SavedModel does
_ATOL = 1e-5


def config_from_card(card: dict, data: list[str] | None = None) -> RunConfig:
    """The run configuration a card's ``training``, ``evaluation`` and ``recipe`` record."""
    recipe = dict(card["recipe"])
    size = int(card["input"]["height"])
    values = {k: v for k, v in recipe.items() if k in _RUN_FIELDS}
    values.update(
        task=card["task"],
        arch=card["arch"],
        variant=card["variant"],
        face_region=card["face_region"],
        split=card["training"]["split"],
        seed=int(card["training"]["seed"]),
        test_size=float(card["evaluation"]["test_size"]),
        size=None if size == archs.SPECS[card["arch"]].default_size else size,
    )
    fit = FitOptions(**{k: v for k, v in recipe.items() if k in _FIT_FIELDS})
    return RunConfig(data=list(data or recipe["data"]), fit=fit, **values)


def rebuild_model(version_dir: Path, config: RunConfig, card: dict) -> keras.Model:
    """The card's network with the SavedModel's weights and the card's calibration; checked
    against the SavedModel's own answers."""
    cnn = cnn_options(config)
    # The architecture only: every weight is overwritten from the SavedModel.
    model = archs.build_model(config.arch, len(card["classes"]), config.input_size, "none", **cnn)
    evaluation = card["evaluation"]
    if evaluation.get("temperature") is not None:
        model = calibration.with_temperature(
            model, evaluation["temperature"], evaluation.get("class_bias")
        )
    saved = tf.saved_model.load(str(version_dir))
    # Random-number states (dropout's) are named by a per-process counter and hold no weights.
    stored = {v.name.removesuffix(":0"): v for v in saved.variables if not _rng_state(v.name)}
    wanted = {v.path: v for v in model.variables if not _rng_state(v.path)}
    if set(stored) != set(wanted):
        missing, extra = sorted(set(wanted) - set(stored)), sorted(set(stored) - set(wanted))
        raise ValueError(
            f"{version_dir}: its weights are not the card's network "
            f"(missing {missing[:5]}, unexpected {extra[:5]})"
        )
    for path, variable in wanted.items():
        value = stored[path].numpy()
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{version_dir}: {path} has shape {value.shape}, not {variable.shape}")
        variable.assign(value)
    rng = np.random.default_rng(0)
    size = config.input_size
    probe = rng.integers(0, 256, size=(_PROBE, size, size, 1), dtype=np.uint8)
    theirs = saved.signatures["serving_default"](image=tf.constant(probe))
    theirs = next(iter(theirs.values())).numpy()
    ours = model.predict(probe.astype("float32"), verbose=0)
    if not np.allclose(ours, theirs, atol=_ATOL):
        gap = float(np.abs(ours - theirs).max())
        raise ValueError(f"{version_dir}: the rebuilt network differs from it by {gap:.2g}")
    return model


def _rng_state(name: str) -> bool:
    return "seed_generator" in name


@dataclass(frozen=True)
class VersionData:
    """An exported version's card, run configuration, data and train / held-out split."""

    card: dict
    config: RunConfig
    ds: Dataset
    train_index: np.ndarray
    test_index: np.ndarray


def version_data(version_dir: Path, data: list[str] | None = None) -> VersionData:
    """The version's split rebuilt from its card's recipe (or ``data``), refused unless it
    holds out as many images as the card says it did."""
    card = read_card(Path(version_dir))
    config = config_from_card(card, data)
    ds = load(config, classes=list(card["classes"]))
    train_index, test_index = split_by_source(ds, config.split, config.test_size, config.seed)
    if len(test_index) != card["evaluation"]["held_out_images"]:
        raise ValueError(
            f"the data gives {len(test_index)} held-out images, "
            f"{version_dir} held out {card['evaluation']['held_out_images']}"
        )
    return VersionData(card, config, ds, train_index, test_index)


def unexport(version_dir: Path, data: list[str] | None = None) -> RunResult:
    """The exported version as a run (see the module docstring)."""
    started = time.perf_counter()
    version_dir = Path(version_dir)
    vd = version_data(version_dir, data)
    card, config, ds = vd.card, vd.config, vd.ds
    train_index, test_index = vd.train_index, vd.test_index
    model = rebuild_model(version_dir, config, card)
    _, val_index = validation_split(ds, train_index, config)
    evaluation = card["evaluation"]
    history = {"unexported": {"from": str(version_dir), "version": card["version"]}}
    result = evaluated_run(
        config,
        model,
        ds,
        train_index,
        test_index,
        val_index,
        history,
        started,
        evaluation.get("temperature"),
        evaluation.get("class_bias"),
    )
    _same_metrics(card_metrics(result.metrics), card["metrics"], version_dir)
    if result.card()["evaluation"]["held_out_subject_ids"] != evaluation["held_out_subject_ids"]:
        raise ValueError(f"the data holds out other subjects than {version_dir}")
    return result


def _same_metrics(ours: dict, theirs: dict, version_dir: Path) -> None:
    for key in ("accuracy", "macro_f1", "weighted_f1"):
        if not math.isclose(float(ours[key]), float(theirs[key]), abs_tol=1e-9):
            raise ValueError(
                f"held-out {key} {ours[key]:.4f} here, {theirs[key]:.4f} in {version_dir}'s card:"
                " not the data or network it was exported from"
            )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "unexport", help="turn an exported version back into a run directory (for rehead etc.)"
    )
    version_arguments(p)
    p.add_argument("--out", required=True, help="the new run directory")


def version_arguments(p: argparse.ArgumentParser) -> None:
    """``--version DIR`` and the repeatable ``--data NAME=PATH`` of ``version_data``."""
    p.add_argument("--version", required=True, help="an exported version directory")
    p.add_argument(
        "--data",
        action="append",
        metavar="NAME=PATH",
        help="the training data, where the card's recipe.data paths do not resolve here",
    )


def cmd_unexport(args: argparse.Namespace) -> int:
    result = unexport(Path(args.version), args.data)
    save_run(result, Path(args.out))
    print(
        f"{args.version}: held-out accuracy {result.metrics['accuracy']:.4f} as in its card; "
        f"saved to {args.out}"
    )
    return 0
