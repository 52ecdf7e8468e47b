"""One training run end to end: load → split → fit → evaluate on held-out data → card fields."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from model_artifact import model_name
from training import archs, splits
from training.data import DEFAULT_SUBJECT_RE, Dataset, load_dataset
from training.evaluate import card_metrics, compute_metrics, predict_labels, write_report
from training.train import FitOptions, fit

log = logging.getLogger(__name__)


@dataclass
class RunConfig:
    """Everything that determines a run (written to ``run.json``)."""

    data: str
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

    @property
    def epochs_trained(self) -> int:
        return len(self.history.get("loss", [])) or self.config.fit.epochs

    def card(self) -> dict:
        """mmed.json fields (without ``version``/``input``, which the exporter fills in)."""
        c = self.config
        ds = self.dataset
        train_subjects = np.unique(ds.subjects[self.train_index])
        test_subjects = np.unique(ds.subjects[self.test_index])
        return {
            "name": c.name,
            "task": c.task,
            "arch": c.arch,
            "variant": c.variant,
            "classes": ds.classes,
            "face_region": c.face_region,
            "training": {
                "dataset": c.dataset_name or Path(c.data).name,
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
                "test_size": c.test_size,
            },
            "recipe": {
                "weights": c.weights,
                "class_map": c.class_map,
                "subject_regex": c.subject_regex,
                **asdict(c.fit),
            },
        }


def load(config: RunConfig) -> Dataset:
    return load_dataset(
        config.data,
        task=config.task,
        size=config.input_size,
        face_region=config.face_region,
        subject_regex=config.subject_regex,
        class_map=config.class_map or None,
        require_subjects=config.split == "subject",
    )


def validation_split(
    ds: Dataset, train_index: np.ndarray, config: RunConfig
) -> tuple[np.ndarray, np.ndarray | None]:
    """Carve early-stopping data out of the training part only (same split kind)."""
    if not config.val_size or not config.fit.early_stopping:
        return train_index, None
    sub = ds.subset(train_index)
    fit_part, val_part = splits.split(
        config.split, sub.labels, sub.subjects, config.val_size, config.seed + 1
    )
    return train_index[fit_part], train_index[val_part]


def train_on(
    config: RunConfig, ds: Dataset, train_index: np.ndarray, test_index: np.ndarray
) -> RunResult:
    """Fit a fresh model on ``train_index`` and evaluate it on ``test_index``."""
    started = time.perf_counter()
    keras.utils.set_random_seed(config.seed)
    model = archs.build_model(config.arch, len(ds.classes), config.input_size, config.weights)
    fit_index, val_index = validation_split(ds, train_index, config)
    val = None if val_index is None else (ds.images[val_index], ds.labels[val_index])
    log.info(
        "%s: %d train / %d validation / %d held-out images",
        config.name,
        len(fit_index),
        0 if val_index is None else len(val_index),
        len(test_index),
    )
    history = fit(model, (ds.images[fit_index], ds.labels[fit_index]), val, config.fit, config.seed)
    y_pred = predict_labels(model, ds.images[test_index])
    metrics = compute_metrics(ds.labels[test_index], y_pred, ds.classes)
    return RunResult(
        config=config,
        model=model,
        dataset=ds,
        train_index=train_index,
        test_index=test_index,
        metrics=metrics,
        history=history,
        seconds=time.perf_counter() - started,
        predictions=y_pred,
    )


def run(config: RunConfig, ds: Dataset | None = None) -> RunResult:
    """Load (unless given), split by ``config.split`` and train one model."""
    ds = ds if ds is not None else load(config)
    train_index, test_index = splits.split(
        config.split, ds.labels, ds.subjects, config.test_size, config.seed
    )
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
                "card": result.card(),
            },
            indent=2,
        )
        + "\n"
    )
    write_report(result.metrics, out_dir, stem="evaluation")
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
    config: RunConfig, info: dict, model: keras.Model, data: str | None = None
) -> dict:
    """Metrics of a saved run on its own held-out files, or on every image of ``data``."""
    if data:
        ds = load_dataset(
            data,
            task=config.task,
            size=config.input_size,
            face_region=config.face_region,
            subject_regex=config.subject_regex,
            class_map=config.class_map or None,
            require_subjects=False,
        )
        index = np.arange(len(ds))
    else:
        ds = load(config)
        wanted = set(info["test_files"])
        index = np.asarray([i for i, p in enumerate(ds.paths) if str(p) in wanted], dtype=int)
        if len(index) != len(wanted):
            raise FileNotFoundError(
                f"{len(wanted) - len(index)} held-out file(s) of this run are missing from "
                f"{config.data}"
            )
    if ds.classes != info["classes"]:
        raise ValueError(f"data classes {ds.classes} differ from the model's {info['classes']}")
    y_pred = predict_labels(model, ds.images[index])
    return compute_metrics(ds.labels[index], y_pred, ds.classes)


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
