"""Gateway configuration: environment variables with the ``MMED_`` prefix (design §3)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The full-face model whose happiness gates masked answers (service/gate.py); the spotting
# tools gate masked models with it too, as the gateway does by default.
SMILE_GATE_MODEL = "micro-cnn"


class Settings(BaseSettings):
    """Every knob of the gateway; one instance per app (``app.state.settings``)."""

    model_config = SettingsConfigDict(env_prefix="MMED_", extra="ignore")

    backend: Literal["embedded", "tfserving"] = "embedded"
    model_repository: Path = Path("model_repository")
    tfserving_grpc: str = "localhost:8500"
    tfserving_timeout_s: float = Field(10.0, gt=0)
    tfserving_retries: int = Field(2, ge=0, le=10)
    embedded_max_batch: int = Field(64, ge=0, le=4096)  # micro-batch rows; 0 = no merging
    embedded_runtime: Literal["int8", "tflite", "savedmodel"] = "int8"  # backends/runtimes.py

    max_upload_mb: float = Field(100.0, gt=0)
    max_video_s: float = Field(600.0, gt=0)
    max_frames: int = Field(2000, ge=1)
    max_pixels: int = Field(40_000_000, ge=1)
    max_concurrency: int = Field(4, ge=1)
    request_timeout_s: float = Field(300.0, gt=0)
    retry_after_s: int = Field(1, ge=1)

    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    default_micro_model: str = "micro-cnn"
    default_masked_model: str = "masked-cnn"
    # Masked answers need a smiling face, read from this full-face model's happiness class
    # (service/gate.py); "" switches the gate off (the masked model's upper-face answer alone).
    smile_gate: str = SMILE_GATE_MODEL
    catalogue_refresh_s: float = Field(30.0, ge=0)
    inference_batch: int = Field(32, ge=1, le=1024)
    # > 0: a video's faces tracked in their own thread, this many frames ahead of the crops;
    # 0: in the worker thread that crops them (service/pipeline.py, docs/benchmarks-real.md).
    track_ahead: int = Field(0, ge=0, le=64)
    # Still images: "blazeface" = the video tracker's full search (BlazeFace on the whole image,
    # frontal Haar where it finds nothing); "haar" = frontal Haar alone (the earlier default).
    image_detector: Literal["blazeface", "haar"] = "blazeface"
    log_level: str = "INFO"

    # Jobs (service/jobs, design §2 "Jobs"): their own limits, fit for whole sessions.
    jobs_enabled: bool = True
    jobs_dir: Path = Path("var/jobs")
    jobs_db: str = Field("", description="postgresql://... for replicas; empty: SQLite in jobs_dir")
    jobs_max_bytes: int = Field(50 * 2**30, ge=1)
    jobs_ttl_h: float = Field(168.0, gt=0)
    jobs_workers: int = Field(1, ge=1, le=64)
    jobs_max_upload_mb: float = Field(8192.0, gt=0)
    jobs_max_video_s: float = Field(4 * 3600.0, gt=0)
    jobs_max_frames: int = Field(4 * 3600 * 30, ge=1)
    jobs_lease_s: float = Field(30.0, gt=0)
    jobs_beat_s: float = Field(2.0, gt=0)
    jobs_poll_s: float = Field(1.0, gt=0)
    jobs_events_s: float = Field(1.0, gt=0)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def jobs_max_upload_bytes(self) -> int:
        return int(self.jobs_max_upload_mb * 1024 * 1024)

    def default_model(self, task: str) -> str:
        return self.default_micro_model if task == "micro" else self.default_masked_model


@lru_cache
def settings_from_env() -> Settings:
    """The process-wide settings read once from the environment."""
    return Settings()
