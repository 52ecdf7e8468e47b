"""``assets.extra/mmed.json``: the metadata card written next to every exported SavedModel."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Task = Literal["micro", "masked"]
Arch = Literal["cnn", "resnet50", "vgg16", "vgg19", "inceptionv3", "efficientnetb0"]
FaceRegion = Literal["full", "upper"]

ARCHS: tuple[str, ...] = ("cnn", "resnet50", "vgg16", "vgg19", "inceptionv3", "efficientnetb0")
# The paper's classes: the v1 models' whole vocabulary.
PAPER_CLASSES: dict[str, tuple[str, ...]] = {
    "micro": ("anger", "contempt", "disgust", "happiness", "sadness"),
    "masked": ("happy_but_angry", "happy_but_sad"),
}
# The "no expression" class of each task (contract C1): ``neutral`` for micro models, ``none``
# ("no masked expression") for masked ones. v1 models have none (``rest_class`` null).
REST_CLASS: dict[str, str] = {"micro": "neutral", "masked": "none"}
# Every class a task's model may have, in canonical order (the paper's, then the rest class).
# A model's card lists its own subset (at least two); serving and clients read the card.
TASK_CLASSES: dict[str, tuple[str, ...]] = {
    task: (*classes, REST_CLASS[task]) for task, classes in PAPER_CLASSES.items()
}
# Model names double as directory names and URL path segments: keep them boring.
NAME_RE = re.compile(r"^(micro|masked)-[a-z0-9]+(-[a-z0-9]+)?$")
SIGNATURE = "serving_default"
INPUT_KEY = "image"
OUTPUT_KEY = "probabilities"


def model_name(task: str, arch: str, variant: str | None = None) -> str:
    """``<task>-<arch>[-<variant>]`` as DESIGN §1 spells it."""
    return f"{task}-{arch}" + (f"-{variant}" if variant else "")


class InputSpec(BaseModel):
    """Shape of one crop the ``serving_default`` signature takes."""

    model_config = ConfigDict(extra="forbid")
    height: int = Field(gt=0)
    width: int = Field(gt=0)
    channels: Literal[1] = 1
    dtype: Literal["uint8"] = "uint8"


class ClassMetrics(BaseModel):
    precision: float
    recall: float
    f1: float
    support: int


class Metrics(BaseModel):
    """Held-out figures, as the paper reports them."""

    accuracy: float
    macro_f1: float
    weighted_f1: float | None = None
    per_class: dict[str, ClassMetrics]


class TrainingInfo(BaseModel):
    dataset: str
    split: str
    seed: int
    epochs: int
    image_count: int
    subjects: int


class ModelCard(BaseModel):
    """The contents of ``mmed.json``."""

    model_config = ConfigDict(extra="allow")
    name: str
    version: int = Field(ge=1)
    task: Task
    arch: Arch
    variant: str | None = None
    classes: list[str]
    rest_class: str | None = Field(
        default=None,
        description="The class meaning 'no expression' (neutral / none); null for v1 models.",
    )
    input: InputSpec
    face_region: FaceRegion
    training: TrainingInfo
    metrics: Metrics

    @model_validator(mode="after")
    def _consistent(self) -> ModelCard:
        if not NAME_RE.match(self.name):
            raise ValueError(f"model name {self.name!r} does not match <task>-<arch>[-<variant>]")
        if self.name != model_name(self.task, self.arch, self.variant):
            raise ValueError(f"model name {self.name!r} disagrees with task/arch/variant")
        if len(self.classes) < 2 or len(set(self.classes)) != len(self.classes):
            raise ValueError("classes must be at least two distinct labels")
        if self.rest_class is not None:
            if self.rest_class != REST_CLASS[self.task]:
                raise ValueError(
                    f"rest_class of a {self.task} model is {REST_CLASS[self.task]!r}, "
                    f"not {self.rest_class!r}"
                )
            if self.rest_class not in self.classes:
                raise ValueError(f"rest_class {self.rest_class!r} is not one of the classes")
        return self
