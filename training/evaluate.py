"""Held-out figures as the paper reports them: per-class P/R/F1/support, averages, confusion."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

from model_artifact import Metrics


def compute_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    classes: list[str],
    probs: np.ndarray | None = None,
    rest_class: str | None = None,
) -> dict:
    """Metrics dict: the mmed.json ``metrics`` fields plus ``macro``/``weighted`` and confusion.

    With ``probs``: ``ece`` (expected calibration error of the top label). With a
    ``rest_class`` too: ``rest_rate`` (share of true rest-class images labelled so, e.g. the
    neutral rate), ``expression_as_rest`` (share of expression images labelled rest) and
    ``expressions`` (accuracy/macro-F1 on the expression images only, both with the arg-max
    over all classes and restricted to the expression classes).
    """
    result = _basic_metrics(y_true, y_pred, classes)
    if probs is not None:
        result["ece"] = expected_calibration_error(probs, y_true)
    if probs is not None and rest_class is not None and rest_class in classes:
        rest = classes.index(rest_class)
        y_true = np.asarray(y_true)
        y_pred = np.asarray(y_pred)
        is_rest = y_true == rest
        result["rest_class"] = rest_class
        result["rest_rate"] = float(np.mean(y_pred[is_rest] == rest)) if is_rest.any() else None
        expr = ~is_rest
        if expr.any():
            result["expression_as_rest"] = float(np.mean(y_pred[expr] == rest))
            keep = [i for i in range(len(classes)) if i != rest]
            names = [classes[i] for i in keep]
            remap = {c: i for i, c in enumerate(keep)}
            t = np.asarray([remap[v] for v in y_true[expr]])
            restricted = np.asarray(keep)[np.argmax(probs[expr][:, keep], axis=1)]
            r = np.asarray([remap[v] for v in restricted])
            a = np.asarray([remap.get(v, -1) for v in y_pred[expr]])
            present = sorted(set(t.tolist()))
            result["expressions"] = {
                "classes": names,
                "images": int(expr.sum()),
                "argmax_all": _short(t, a, present),
                "restricted": _short(t, r, present),
            }
    return result


def _short(y_true: np.ndarray, y_pred: np.ndarray, labels: list[int]) -> dict:
    """Accuracy and macro-F1 over the classes present in ``y_true``."""
    from sklearn.metrics import f1_score

    return {
        "accuracy": float(np.mean(y_true == y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
    }


def expected_calibration_error(probs: np.ndarray, y_true: np.ndarray, bins: int = 15) -> float:
    """ECE of the top label: bin by confidence, weight |accuracy - mean confidence| by bin share."""
    conf = np.max(probs, axis=1)
    hit = np.argmax(probs, axis=1) == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(hit[m].mean() - conf[m].mean())
    return float(ece)


def _basic_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict:
    labels = list(range(len(classes)))
    report = classification_report(
        y_true, y_pred, labels=labels, target_names=classes, output_dict=True, zero_division=0
    )
    per_class = {
        c: {
            "precision": float(report[c]["precision"]),
            "recall": float(report[c]["recall"]),
            "f1": float(report[c]["f1-score"]),
            "support": int(report[c]["support"]),
        }
        for c in classes
    }
    averages = {
        key: {
            "precision": float(report[f"{key} avg"]["precision"]),
            "recall": float(report[f"{key} avg"]["recall"]),
            "f1": float(report[f"{key} avg"]["f1-score"]),
            "support": int(report[f"{key} avg"]["support"]),
        }
        for key in ("macro", "weighted")
    }
    return {
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))),
        "macro_f1": averages["macro"]["f1"],
        "weighted_f1": averages["weighted"]["f1"],
        "per_class": per_class,
        "macro": averages["macro"],
        "weighted": averages["weighted"],
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "classes": list(classes),
    }


def card_metrics(metrics: dict) -> dict:
    """The subset of ``metrics`` that goes into mmed.json (validated by the contract)."""
    fields = {k: metrics[k] for k in ("accuracy", "macro_f1", "weighted_f1", "per_class")}
    return Metrics.model_validate(fields).model_dump(mode="json")


def card_dataset_metrics(metrics: dict) -> dict:
    """The per-dataset figures kept in mmed.json's ``evaluation.datasets``."""
    keys = ("accuracy", "macro_f1", "ece", "rest_rate", "expression_as_rest", "expressions")
    out = {k: metrics[k] for k in keys if k in metrics}
    out["images"] = int(sum(v["support"] for v in metrics["per_class"].values()))
    out["per_class_f1"] = {c: round(v["f1"], 4) for c, v in metrics["per_class"].items()}
    return out


def predict_probs(model: Any, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities ``[N, K]`` of raw uint8 images ``[N, H, W]`` (or ``[N, H, W, 1]``)."""
    x = images.astype("float32")
    if x.ndim == 3:
        x = x[..., None]
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))


def predict_labels(model: Any, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Arg-max class of each raw uint8 image ``[N, H, W]`` (or ``[N, H, W, 1]``)."""
    return np.argmax(predict_probs(model, images, batch_size), axis=1)


def plot_confusion(metrics: dict, path: Path, title: str = "") -> Path:
    """Confusion matrix PNG (counts, with row-normalised shading) like the paper's figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(metrics["confusion"])
    classes = metrics["classes"]
    rows = cm.sum(axis=1, keepdims=True)
    shade = np.divide(cm, rows, out=np.zeros_like(cm, dtype=float), where=rows > 0)
    size = 1.2 + 0.9 * len(classes)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(shade, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(
                j,
                i,
                str(cm[i, j]),
                ha="center",
                va="center",
                color="white" if shade[i, j] > 0.5 else "black",
            )
    ax.set_title(title or f"accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
    fig.colorbar(image, ax=ax, fraction=0.046, label="row share")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(metrics: dict, out_dir: Path, stem: str = "evaluation") -> tuple[Path, Path]:
    """``<stem>.json`` and ``<stem>_confusion.png`` in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stem}.json"
    json_path.write_text(json.dumps(metrics, indent=2) + "\n")
    png_path = plot_confusion(metrics, out_dir / f"{stem}_confusion.png")
    return json_path, png_path
