"""Typed HTTP payloads (design §2). These models generate the public OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from model_artifact import ModelCard


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error."""

    type: str
    title: str
    status: int
    detail: str


class MediaSummary(BaseModel):
    kind: Literal["image", "video"]
    width: int
    height: int
    fps: float | None = Field(None, description="Average frame rate; null for images.")
    duration_s: float | None = Field(None, description="Duration; null for images.")
    frames_sampled: int


class ModelRef(BaseModel):
    name: str
    version: int
    task: Literal["micro", "masked"]
    classes: list[str]
    rest_class: str | None = Field(
        default=None,
        description="The class meaning 'no expression on this face' (micro: neutral; masked: "
        "none, no masked expression); null for models without one (v1).",
    )


class Face(BaseModel):
    """Face box in frame pixels; ``score`` in [0, 1] (1.0 when detection is off)."""

    x: int
    y: int
    w: int
    h: int
    score: float


class FrameResult(BaseModel):
    index: int = Field(description="0-based index of the frame in the decoded stream.")
    timestamp_s: float = Field(description="Presentation time from the stream start.")
    face: Face | None = Field(description="Null when no face was found in the frame.")
    label: str | None = Field(description="Null when no face was found (never a guess).")
    confidence: float | None
    probabilities: dict[str, float] | None


class Summary(BaseModel):
    frames_with_face: int
    label_counts: dict[str, int] = Field(
        description="Frames per label, the rest class (model.rest_class) included."
    )
    dominant_label: str | None = Field(
        description="The most frequent label other than model.rest_class among frames with a "
        "face (ties: the higher mean probability); the rest class only when no frame has "
        "another label; null when no frame has a face."
    )
    mean_probabilities: dict[str, float] | None


class Timing(BaseModel):
    decode: float
    detect: float
    infer: float
    total: float


class PredictResponse(BaseModel):
    media: MediaSummary
    model: ModelRef
    frames: list[FrameResult]
    summary: Summary
    timing_ms: Timing


ModelStatus = Literal["available", "unavailable"]


class ModelInfo(ModelCard):
    """A catalogue entry: the model's mmed.json plus its serving status."""

    status: ModelStatus = Field(description="available: the backend can serve it right now.")
    versions: list[int]
    default_for_task: bool


class ModelList(BaseModel):
    models: list[ModelInfo]


class Health(BaseModel):
    status: Literal["ok", "ready"]
    backend: str | None = None
    models: list[str] | None = None
