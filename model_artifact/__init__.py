"""The model artifact contract (DESIGN §1) shared by the training writer and the serving reader.

Everything both sides must agree on lives here and nowhere else: the task vocabularies, the
``mmed.json`` card, the face-region geometry and the on-disk repository layout.
"""

from model_artifact.card import (
    ARCHS,
    PAPER_CLASSES,
    REST_CLASS,
    TASK_CLASSES,
    Arch,
    FaceRegion,
    InputSpec,
    Metrics,
    ModelCard,
    Task,
    TrainingInfo,
    model_name,
)
from model_artifact.regions import crop_region
from model_artifact.repository import ModelRepository, ModelVersion

__all__ = [
    "ARCHS",
    "PAPER_CLASSES",
    "REST_CLASS",
    "TASK_CLASSES",
    "Arch",
    "FaceRegion",
    "InputSpec",
    "Metrics",
    "ModelCard",
    "ModelRepository",
    "ModelVersion",
    "Task",
    "TrainingInfo",
    "crop_region",
    "model_name",
]
