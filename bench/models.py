"""Model repositories for the benchmark: the shipped one when it has the default models, else
untrained (random-weight) exports of the same architectures — latency and memory do not depend
on the weights, and the report says which was used."""

from __future__ import annotations

from pathlib import Path

from bench.workloads import CACHE
from model_artifact import REST_CLASS, TASK_CLASSES, ModelRepository

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "model_repository"
DEFAULTS = ("micro-cnn", "masked-cnn")


def has_models(root: Path, names: tuple[str, ...]) -> bool:
    if not root.is_dir():
        return False
    repo = ModelRepository(root)
    try:
        return all(repo.versions(name) for name in names)
    except Exception:
        return False


def untrained_export(root: Path, task: str, arch: str) -> None:
    """Export a random-weight ``<task>-<arch>`` (the real graph and signature) into ``root``."""
    from training.archs import build_model
    from training.export import export_model

    classes = list(TASK_CLASSES[task])
    model = build_model(arch, len(classes), weights="none")
    per_class = {c: {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0} for c in classes}
    card = {
        "name": f"{task}-{arch}",
        "task": task,
        "arch": arch,
        "variant": None,
        "classes": classes,
        "rest_class": REST_CLASS[task],
        "face_region": "full" if task == "micro" else "upper",
        "training": {
            "dataset": "untrained (benchmark only)",
            "split": "none",
            "seed": 0,
            "epochs": 0,
            "image_count": 0,
            "subjects": 0,
        },
        "metrics": {"accuracy": 0.0, "macro_f1": 0.0, "per_class": per_class},
    }
    export_model(model, root, card)


def repository(names: tuple[str, ...] = DEFAULTS) -> tuple[Path, str]:
    """(repository root, 'shipped' | 'untrained') holding ``names`` (``<task>-<arch>``)."""
    if has_models(SHIPPED, names):
        return SHIPPED, "shipped"
    root = CACHE / "model_repository"
    for name in names:
        if not has_models(root, (name,)):
            task, arch = name.split("-", 1)
            untrained_export(root, task, arch)
    return root, "untrained"
