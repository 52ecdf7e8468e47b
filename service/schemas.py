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


class GateRef(BaseModel):
    """The smile gate a masked answer went through (service/gate.py): a masked label needs a
    smiling face, read from ``model``'s ``smile_class`` on the full face."""

    model: str
    version: int
    smile_class: str


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
    gate: GateRef | None = Field(
        default=None,
        description="Masked models: the smile gate their probabilities went through "
        "(P(masked c) = P(smile) x P(c | upper face); P(none) takes the rest), null when "
        "ungated (micro models, models without a rest class, the gate switched off).",
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


class EventEvidence(BaseModel):
    """What made the spotter report an event, with the numbers a reviewer can check."""

    signal: Literal["probabilities", "motion"] = Field(
        description="The signal that contributed most to the event's peak score."
    )
    region: str = Field(
        description="The face region (brow, eyes, mouth) whose texture changed most at the apex."
    )
    score: float = Field(description="Peak combined score (1.0 = the detection threshold).")
    probability_change: float = Field(
        description="Total-variation distance of the apex probabilities from the baseline (0-1)."
    )
    motion: dict[str, float] = Field(
        description="Per region: LBP chi-squared distance from the baseline face at the apex, "
        "as a multiple of the recording's median."
    )
    baseline_label: str | None = Field(
        description="The label the person's resting face (baseline) gets from the model."
    )


class Event(BaseModel):
    """A spotted expression: a brief change from the person's own resting face and back."""

    kind: Literal["micro", "macro"] = Field(
        description="micro: onset to offset lasts at most 0.5 s (MEGC's bound); macro: longer."
    )
    label: str = Field(
        description="The class that rose most above the baseline (never the rest class)."
    )
    confidence: float = Field(description="The model's probability of `label` at the apex.")
    onset_index: int = Field(description="`frames[].index` of the first frame of the event.")
    apex_index: int = Field(description="`frames[].index` of the frame of greatest change.")
    offset_index: int = Field(description="`frames[].index` of the last frame (inclusive).")
    onset_s: float
    apex_s: float
    offset_s: float
    evidence: EventEvidence


class PredictResponse(BaseModel):
    media: MediaSummary
    model: ModelRef
    frames: list[FrameResult]
    summary: Summary
    timing_ms: Timing
    events: list[Event] | None = Field(
        None,
        description="Spotted expression events (onset/apex/offset). Computed only for videos "
        "analysed on every frame (`sample_interval=0`): null for images and for coarser "
        "sampling, which cannot see an expression lasting a fifth of a second. An empty list "
        "means none was found. An event is a change from this person's resting face, not a "
        "sign of deception.",
    )


ModelStatus = Literal["available", "unavailable"]


class ModelInfo(ModelCard):
    """A catalogue entry: the model's mmed.json plus its serving status."""

    status: ModelStatus = Field(description="available: the backend can serve it right now.")
    versions: list[int]
    default_for_task: bool
    runtime: str | None = Field(
        default=None,
        description="What runs this version: the embedded backend's `int8` (the version's int8 "
        "companion), `tflite` or `savedmodel` once it is loaded (null before), `tfserving` "
        "(TF Serving, the float SavedModel). `tflite`, `savedmodel` and `tfserving` give the "
        "same answers (within 1e-4); `int8` within what the version's int8.json records.",
    )


class ModelList(BaseModel):
    models: list[ModelInfo]


class Health(BaseModel):
    status: Literal["ok", "ready"]
    backend: str | None = None
    models: list[str] | None = None
