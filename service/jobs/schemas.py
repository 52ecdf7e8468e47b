"""Typed payloads of the job API (C5)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from service.schemas import ModelRef, PredictResponse, Problem

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINISHED: tuple[JobStatus, ...] = ("succeeded", "failed", "cancelled")


class JobParameters(BaseModel):
    """The submit's query parameters, as resolved (the model version actually chosen)."""

    task: Literal["micro", "masked"]
    model: str
    version: int
    sample_interval: float
    detect_faces: bool
    max_frames: int


class JobProgress(BaseModel):
    frames_done: int = Field(description="Sampled frames analysed and stored so far.")
    frames_total: int | None = Field(
        description="Expected sampled frames (from the container's duration; exact once done)."
    )
    media_s_done: float = Field(description="Media time analysed so far.")
    media_s_total: float | None = Field(description="The video's duration; null for images.")


class Job(BaseModel):
    id: str = Field(description="Unguessable job id.")
    status: JobStatus
    progress: JobProgress
    eta_s: float | None = Field(description="Estimated seconds to finish while running.")
    created_at: str = Field(description="ISO 8601, UTC.")
    started_at: str | None
    finished_at: str | None
    error: Problem | None = Field(description="Why the job failed (problem details).")
    parameters: JobParameters
    model: ModelRef


class JobList(BaseModel):
    jobs: list[Job] = Field(description="The caller's jobs, newest first.")


class JobResult(PredictResponse):
    """The body ``/v1/predict`` would have returned for the whole upload (frames paginated by
    ``offset``/``limit``; ``media.frames_sampled`` is the total; ``events`` as
    ``/v1/predict`` gives them)."""
