"""One training run end to end: load → split → fit → evaluate on held-out data → card fields."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypedDict

import keras
import numpy as np

from model_artifact import REST_CLASS, model_name
from training import archs, calibration, splits
from training.data import DEFAULT_SUBJECT_RE, Dataset
from training.evaluate import (
    card_dataset_metrics,
    card_metrics,
    compute_metrics,
    predict_probs,
    write_report,
)
from training.sources import DataSpec, load_sources, parse_specs
from training.train import FitOptions, fit

log = logging.getLogger(__name__)


class _CnnOptions(TypedDict, total=False):
    """The ``cnn`` architecture's own keyword arguments of ``archs.build_model``."""

    cnn_width: int
    cnn_batchnorm: bool
    cnn_depth: int


@dataclass
class RunConfig:
    """Everything that determines a run (written to ``run.json``)."""

    data: str | list[str]  # one folder, or "[NAME=]PATH" specs (training.sources)
    task: str = "micro"
    arch: str = "cnn"
    size: int | None = None
    face_region: str = "full"
    split: str = "subject"
    test_size: float = 0.2
    val_size: float = 0.15
    seed: int = 0
    weights: str = "none"
    subject_regex: str = DEFAULT_SUBJECT_RE
    class_map: dict[str, str] = field(default_factory=dict)
    variant: str | None = None
    dataset_name: str | None = None
    fit: FitOptions = field(default_factory=FitOptions)
    # Per-dataset folder → class maps (override class_map for that dataset), folders to skip
    # ("" = every dataset), how many times each dataset's training images are repeated per
    # epoch (a small posed set beside a large in-the-wild one), and temperature scaling on
    # the validation split (baked into the model, so a confidence behaves like a probability).
    class_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    skip_folders: dict[str, list[str]] = field(default_factory=dict)
    oversample: dict[str, int] = field(default_factory=dict)
    calibrate: bool = False
    # or "bcts" (temperature + per-class offsets, NLL) or "temperature-rest" (temperature, then
    # one offset on the rest class's logit for validation macro-F1)
    calibration: str = "temperature"
    # temperature-rest: the validation recall the rest class must keep (0 = unconstrained)
    rest_min_recall: float = 0.0
    cnn_width: int = 1  # the CNN's width multiplier and batch norm (training.archs.build_model)
    cnn_batchnorm: bool = False
    cnn_depth: int = 1  # convolutions per CNN block (2 = the v3 "deep" layout)
    # A saved run whose (uncalibrated) weights start this one: training continues from them.
    # Its held-out files must be this run's (same data and seed), so nothing held out leaks in.
    init_from: str | None = None

    @property
    def specs(self) -> list[DataSpec]:
        specs = parse_specs(self.data)
        if isinstance(self.data, str) and self.dataset_name:
            specs = [DataSpec(self.dataset_name, specs[0].path)]
        return specs

    def class_map_for(self, name: str) -> dict[str, str]:
        return self.class_maps.get(name) or self.class_map

    def skip_for(self, name: str) -> list[str]:
        return [*self.skip_folders.get("", []), *self.skip_folders.get(name, [])]

    @property
    def name(self) -> str:
        return model_name(self.task, self.arch, self.variant)

    @property
    def input_size(self) -> int:
        if self.arch not in archs.SPECS:
            raise archs.UnknownArchError(
                f"unknown architecture {self.arch!r}; choose one of {', '.join(archs.SPECS)}"
            )
        return self.size or archs.SPECS[self.arch].default_size

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> RunConfig:
        data = dict(data)
        data["fit"] = FitOptions(**data.get("fit", {}))
        return cls(**data)


@dataclass
class RunResult:
    config: RunConfig
    model: keras.Model
    dataset: Dataset
    train_index: np.ndarray
    test_index: np.ndarray
    metrics: dict
    history: dict
    seconds: float
    predictions: np.ndarray
    per_dataset: dict = field(default_factory=dict)
    temperature: float | None = None
    bias: list[float] | None = None
    # Per-dataset metrics on the validation split of the training data (the calibrated
    # model): what recipes are selected on, never the held-out sets.
    validation: dict = field(default_factory=dict)

    @property
    def epochs_trained(self) -> int:
        return len(self.history.get("loss", [])) or self.config.fit.epochs

    def card(self) -> dict:
        """mmed.json fields (without ``version``/``input``, which the exporter fills in)."""
        c = self.config
        ds = self.dataset
        # Subjects of the subject-split datasets (one shipping its own split has no ids).
        by_subject = ds.fixed_split[self.train_index] == ""
        train_subjects = np.unique(ds.subjects[self.train_index][by_subject])
        subject_split = ds.fixed_split[self.test_index] == ""
        test_subjects = np.unique(ds.subjects[self.test_index][subject_split])
        return {
            "name": c.name,
            "task": c.task,
            "arch": c.arch,
            "variant": c.variant,
            "classes": ds.classes,
            "rest_class": REST_CLASS[c.task] if REST_CLASS[c.task] in ds.classes else None,
            "face_region": c.face_region,
            "training": {
                "dataset": "+".join(s.name for s in c.specs),
                "split": c.split,
                "seed": c.seed,
                "epochs": self.epochs_trained,
                "image_count": len(self.train_index),
                "subjects": len(train_subjects),
            },
            "metrics": card_metrics(self.metrics),
            "evaluation": {
                "held_out_images": len(self.test_index),
                "held_out_subjects": len(test_subjects),
                "held_out_subject_ids": [str(x) for x in test_subjects],
                "held_out_splits": sorted(
                    {
                        f"{s}/{t}"
                        for s, t in zip(
                            ds.sources[self.test_index],
                            ds.fixed_split[self.test_index],
                            strict=True,
                        )
                        if t
                    }
                ),
                "test_size": c.test_size,
                "datasets": {name: card_dataset_metrics(m) for name, m in self.per_dataset.items()},
                "temperature": self.temperature,
                "class_bias": self.bias,
            },
            "recipe": {
                "data": [str(s) for s in c.specs],
                "weights": c.weights,
                "class_map": c.class_map,
                "class_maps": c.class_maps,
                "skip_folders": c.skip_folders,
                "oversample": c.oversample,
                "calibrate": c.calibrate,
                "calibration": c.calibration,
                "rest_min_recall": c.rest_min_recall,
                "val_size": c.val_size,
                "cnn_width": c.cnn_width,
                "cnn_batchnorm": c.cnn_batchnorm,
                "cnn_depth": c.cnn_depth,
                "subject_regex": c.subject_regex,
                # The run this one continued (its folder name; None: trained from scratch).
                "init_from": Path(c.init_from).name if c.init_from else None,
                **asdict(c.fit),
            },
        }


def load(config: RunConfig, classes: list[str] | None = None) -> Dataset:
    specs = config.specs
    return load_sources(
        specs,
        task=config.task,
        size=config.input_size,
        face_region=config.face_region,
        subject_regex=config.subject_regex,
        class_maps={s.name: config.class_map_for(s.name) for s in specs},
        skips={s.name: config.skip_for(s.name) for s in specs},
        require_subjects=config.split == "subject",
        classes=classes,
    )


def split_by_source(
    ds: Dataset, kind: str, test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train/held-out indices: a dataset's own split where it ships one (train vs valid/test),
    else ``kind`` (subject/random) within that dataset; the datasets never mix in a split."""
    train, test = [], []
    for name in dict.fromkeys(ds.sources):
        idx = np.flatnonzero(ds.sources == name)
        tags = ds.fixed_split[idx]
        if (tags != "").any():
            train.append(idx[tags == "train"])
            test.append(idx[(tags != "train") & (tags != "")])
            continue
        tr, te = splits.split(kind, ds.labels[idx], ds.subjects[idx], test_size, seed)
        train.append(idx[tr])
        test.append(idx[te])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def validation_split(
    ds: Dataset, train_index: np.ndarray, config: RunConfig
) -> tuple[np.ndarray, np.ndarray | None]:
    """Carve early-stopping / calibration data out of the training part only: by subject
    within a subject-split dataset, at random within one that ships its own split."""
    if not config.val_size or not (config.fit.early_stopping or config.calibrate):
        return train_index, None
    sub = ds.subset(train_index)
    sub.fixed_split = np.full(len(sub), "", dtype=object)
    fixed = ds.fixed_split[train_index] != ""
    fit_part, val_part = [], []
    for name in dict.fromkeys(sub.sources):
        idx = np.flatnonzero(sub.sources == name)
        kind = "random" if fixed[idx].any() else config.split
        tr, va = splits.split(
            kind, sub.labels[idx], sub.subjects[idx], config.val_size, config.seed + 1
        )
        fit_part.append(idx[tr])
        val_part.append(idx[va])
    return (
        train_index[np.sort(np.concatenate(fit_part))],
        train_index[np.sort(np.concatenate(val_part))],
    )


def oversampled(ds: Dataset, index: np.ndarray, repeats: dict[str, int]) -> np.ndarray:
    """``index`` with each dataset's images repeated ``repeats[name]`` times (default once)."""
    if not repeats:
        return index
    parts = [
        np.repeat(index[ds.sources[index] == n], max(1, int(repeats.get(n, 1))))
        for n in dict.fromkeys(ds.sources[index])
    ]
    return np.sort(np.concatenate(parts))


def held_out_metrics(
    ds: Dataset, index: np.ndarray, probs: np.ndarray, rest_class: str | None
) -> tuple[dict, dict]:
    """Pooled metrics on ``index`` and the same per dataset."""
    pooled = compute_metrics(ds.labels[index], probs.argmax(1), ds.classes, probs, rest_class)
    per = {}
    for name in dict.fromkeys(ds.sources[index]):
        m = ds.sources[index] == name
        per[str(name)] = compute_metrics(
            ds.labels[index][m], probs[m].argmax(1), ds.classes, probs[m], rest_class
        )
    return pooled, per


def cnn_options(config: RunConfig) -> _CnnOptions:
    """The keyword arguments ``archs.build_model`` takes for ``config``'s architecture."""
    if config.arch != "cnn":
        return {}
    return {
        "cnn_width": config.cnn_width,
        "cnn_batchnorm": config.cnn_batchnorm,
        "cnn_depth": config.cnn_depth,
    }


def train_on(
    config: RunConfig, ds: Dataset, train_index: np.ndarray, test_index: np.ndarray
) -> RunResult:
    """Fit a fresh model on ``train_index`` and evaluate it on ``test_index``."""
    started = time.perf_counter()
    keras.utils.set_random_seed(config.seed)
    cnn = cnn_options(config)
    model = archs.build_model(
        config.arch, len(ds.classes), config.input_size, config.weights, **cnn
    )
    if config.init_from:
        _init_weights(model, Path(config.init_from), [str(ds.paths[i]) for i in test_index])
    fit_index, val_index = validation_split(ds, train_index, config)
    val = None if val_index is None else (ds.images[val_index], ds.labels[val_index])
    log.info(
        "%s: %d train / %d validation / %d held-out images",
        config.name,
        len(fit_index),
        0 if val_index is None else len(val_index),
        len(test_index),
    )
    fit_index = oversampled(ds, fit_index, config.oversample)
    targets = ds.soft_targets() if config.fit.soft_labels else None
    history = fit(
        model,
        (ds.images[fit_index], ds.labels[fit_index]),
        val,
        config.fit,
        config.seed,
        targets=None if targets is None else targets[fit_index],
    )
    return _finish(config, model, ds, train_index, test_index, val_index, history, started)


def _init_weights(model: keras.Model, run_dir: Path, test_files: list[str]) -> None:
    """Copy a saved run's network (its calibration removed) into ``model``; refuse a run that
    held out other files (its training set would overlap this run's held-out set)."""
    _, info, prior = load_run(run_dir)
    if info["test_files"] != test_files:
        raise ValueError(f"{run_dir} held out other files than this run: cannot start from it")
    model.set_weights(calibration.without_temperature(prior).get_weights())
    log.info("weights from %s", run_dir)


def _finish(
    config: RunConfig,
    model: keras.Model,
    ds: Dataset,
    train_index: np.ndarray,
    test_index: np.ndarray,
    val_index: np.ndarray | None,
    history: dict,
    started: float,
) -> RunResult:
    """Calibrate on the validation split (if asked) and evaluate on the held-out data."""
    temperature = bias = None
    if config.calibrate and val_index is not None:
        val_probs = predict_probs(model, ds.images[val_index])
        temperature, bias = _calibrate(config, ds, val_probs, ds.labels[val_index])
        model = calibration.with_temperature(model, temperature, bias)
        log.info(
            "temperature %.3f, class offsets %s fitted on %d validation images",
            temperature,
            bias,
            len(val_index),
        )
    return evaluated_run(
        config, model, ds, train_index, test_index, val_index, history, started, temperature, bias
    )


def evaluated_run(
    config: RunConfig,
    model: keras.Model,
    ds: Dataset,
    train_index: np.ndarray,
    test_index: np.ndarray,
    val_index: np.ndarray | None,
    history: dict,
    started: float,
    temperature: float | None = None,
    bias: list[float] | None = None,
) -> RunResult:
    """``model`` (calibrated by ``temperature``/``bias`` already) scored on the held-out and the
    validation images, as a run."""
    probs = predict_probs(model, ds.images[test_index])
    rest = REST_CLASS[config.task] if REST_CLASS[config.task] in ds.classes else None
    metrics, per_dataset = held_out_metrics(ds, test_index, probs, rest)
    validation = {}
    if val_index is not None:
        val_probs = predict_probs(model, ds.images[val_index])
        validation = held_out_metrics(ds, val_index, val_probs, rest)[1]
    return RunResult(
        config=config,
        model=model,
        dataset=ds,
        train_index=train_index,
        test_index=test_index,
        metrics=metrics,
        history=history,
        seconds=time.perf_counter() - started,
        predictions=probs.argmax(1),
        per_dataset=per_dataset,
        temperature=temperature,
        bias=bias,
        validation=validation,
    )


def _calibrate(
    config: RunConfig, ds: Dataset, probs: np.ndarray, labels: np.ndarray
) -> tuple[float, list[float] | None]:
    """``(temperature, class offsets)`` by ``config.calibration`` on validation ``probs``."""
    if config.calibration == "bcts":
        return calibration.fit_bias_temperature(probs, labels)
    temperature = calibration.fit_temperature(probs, labels)
    if config.calibration == "temperature-rest":
        rest = REST_CLASS[config.task]
        if rest not in ds.classes:
            raise ValueError(f"temperature-rest needs the rest class {rest!r} among the classes")
        bias = calibration.fit_rest_offset(
            probs, labels, ds.classes.index(rest), temperature, config.rest_min_recall
        )
        return temperature, bias
    if config.calibration != "temperature":
        raise ValueError(f"unknown calibration {config.calibration!r}")
    return temperature, None


def recalibrate(
    run_dir: Path, method: str = "bcts", rest_min_recall: float | None = None
) -> RunResult:
    """Refit a saved run's calibration (``temperature`` | ``bcts`` | ``temperature-rest``,
    optionally with a new ``rest_min_recall``) on its validation split (recomputed from the
    seeded config) without retraining, and re-evaluate it."""
    from dataclasses import replace

    config, info, model = load_run(run_dir)
    config = replace(config, calibrate=True, calibration=method)
    if rest_min_recall is not None:
        config = replace(config, rest_min_recall=rest_min_recall)
    ds = load(config, classes=list(info["classes"]))
    train_index, test_index = split_by_source(ds, config.split, config.test_size, config.seed)
    if [str(ds.paths[i]) for i in test_index] != info["test_files"]:
        raise ValueError(f"the data no longer gives {run_dir}'s held-out split")
    _, val_index = validation_split(ds, train_index, config)
    base = calibration.without_temperature(model)
    return _finish(
        config,
        base,
        ds,
        train_index,
        test_index,
        val_index,
        info["history"],
        time.perf_counter() - float(info.get("seconds", 0)),
    )


def run(config: RunConfig, ds: Dataset | None = None) -> RunResult:
    """Load (unless given), split by ``config.split`` and train one model."""
    ds = ds if ds is not None else load(config)
    train_index, test_index = split_by_source(ds, config.split, config.test_size, config.seed)
    return train_on(config, ds, train_index, test_index)


def save_run(result: RunResult, out_dir: Path) -> Path:
    """``model.keras``, ``run.json`` (config, split, history) and the evaluation JSON + PNG."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result.model.save(out_dir / "model.keras")
    ds = result.dataset
    (out_dir / "run.json").write_text(
        json.dumps(
            {
                "config": result.config.to_json(),
                "classes": ds.classes,
                "train_files": [str(ds.paths[i]) for i in result.train_index],
                "test_files": [str(ds.paths[i]) for i in result.test_index],
                "skipped_files": [str(p) for p in ds.skipped],
                "history": result.history,
                "seconds": round(result.seconds, 1),
                "validation": {
                    name: card_dataset_metrics(m) for name, m in result.validation.items()
                },
                "card": result.card(),
            },
            indent=2,
        )
        + "\n"
    )
    write_report(result.metrics, out_dir, stem="evaluation")
    for name, metrics in result.per_dataset.items():
        write_report(metrics, out_dir, stem=f"evaluation-{name}")
    return out_dir


def load_run(run_dir: Path) -> tuple[RunConfig, dict, keras.Model]:
    """The config, ``run.json`` contents and trained model of a saved run."""
    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file():
        raise FileNotFoundError(f"{run_dir} is not a training run (no run.json)")
    info = json.loads((run_dir / "run.json").read_text())
    model = keras.saving.load_model(run_dir / "model.keras")
    return RunConfig.from_json(info["config"]), info, model


def evaluate_saved(
    config: RunConfig, info: dict, model: keras.Model, data: str | list[str] | None = None
) -> dict:
    """``{"pooled": metrics, "datasets": {name: metrics}}`` of a saved run on its own held-out
    files, or on ``data`` (``[NAME=]PATH`` specs): every image of a plain folder, the held-out
    part (valid/test) of a dataset that ships its own split. Folders whose class the model does
    not have are left out (logged); a dataset named like one of the run's keeps its class map.
    """
    classes = list(info["classes"])
    rest = REST_CLASS[config.task] if REST_CLASS[config.task] in classes else None
    if data:
        specs = parse_specs(data)
        ds = load_sources(
            specs,
            task=config.task,
            size=config.input_size,
            face_region=config.face_region,
            subject_regex=config.subject_regex,
            class_maps={s.name: config.class_map_for(s.name) for s in specs},
            skips={
                s.name: [*config.skip_for(s.name), *_foreign_folders(s, config, classes)]
                for s in specs
            },
            require_subjects=False,
            classes=classes,
        )
        index = np.flatnonzero(ds.fixed_split != "train")
    else:
        ds = load(config, classes=classes)
        wanted = set(info["test_files"])
        index = np.asarray([i for i, p in enumerate(ds.paths) if str(p) in wanted], dtype=int)
        if len(index) != len(wanted):
            raise FileNotFoundError(
                f"{len(wanted) - len(index)} held-out file(s) of this run are missing from "
                f"{config.data}"
            )
    probs = predict_probs(model, ds.images[index])
    pooled, per = held_out_metrics(ds, index, probs, rest)
    return {"pooled": pooled, "datasets": per}


def _foreign_folders(spec: DataSpec, config: RunConfig, classes: list[str]) -> list[str]:
    """Folders of ``spec`` (or of its train/valid parts) that map to no class of the model."""
    from training.sources import shipped_splits

    roots = list((shipped_splits(Path(spec.path)) or {"": Path(spec.path)}).values())
    mapping = config.class_map_for(spec.name)
    out = set()
    for root in roots:
        if not root.is_dir():
            continue
        for folder in root.iterdir():
            if not folder.is_dir():
                continue
            if mapping:
                if folder.name in mapping and mapping[folder.name] not in classes:
                    out.add(folder.name)
            elif folder.name not in classes:
                out.add(folder.name)
    if out:
        log.info("%s: leaving out folders %s (not classes of this model)", spec.name, sorted(out))
    return sorted(out)


def cross_validate(config: RunConfig, k: int, ds: Dataset | None = None) -> dict:
    """Train ``k`` models, one per fold (by subject, or stratified-random for ``random``)."""
    from sklearn.model_selection import StratifiedKFold

    ds = ds if ds is not None else load(config)
    if config.split == "subject":
        folds = splits.subject_folds(ds.labels, ds.subjects, k, config.seed)
    else:
        skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=config.seed)
        folds = list(skf.split(np.zeros(len(ds)), ds.labels))
    fold_metrics, y_true, y_pred = [], [], []
    for i, (train_index, test_index) in enumerate(folds, start=1):
        log.info("fold %d/%d", i, k)
        result = train_on(config, ds, train_index, test_index)
        fold_metrics.append(result.metrics)
        y_true.append(ds.labels[test_index])
        y_pred.append(result.predictions)
        log.info(
            "fold %d: accuracy %.3f, macro-F1 %.3f",
            i,
            result.metrics["accuracy"],
            result.metrics["macro_f1"],
        )
    pooled = compute_metrics(np.concatenate(y_true), np.concatenate(y_pred), ds.classes)
    summary = {
        key: {
            "mean": float(np.mean([m[key] for m in fold_metrics])),
            "std": float(np.std([m[key] for m in fold_metrics])),
            "min": float(np.min([m[key] for m in fold_metrics])),
            "max": float(np.max([m[key] for m in fold_metrics])),
        }
        for key in ("accuracy", "macro_f1", "weighted_f1")
    }
    return {
        "config": config.to_json(),
        "k": k,
        "summary": summary,
        "pooled": pooled,
        "folds": fold_metrics,
    }
