"""Held-out figures as the paper reports them: per-class P/R/F1/support, averages, confusion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

from model_artifact import Metrics


def compute_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict:
    """Metrics dict: the mmed.json ``metrics`` fields plus ``macro``/``weighted`` and confusion."""
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


def predict_labels(model: Any, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Arg-max class of each raw uint8 image ``[N, H, W]`` (or ``[N, H, W, 1]``)."""
    x = images.astype("float32")
    if x.ndim == 3:
        x = x[..., None]
    return np.argmax(model.predict(x, batch_size=batch_size, verbose=0), axis=1)


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
