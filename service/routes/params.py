"""Query parameters shared by every route that runs a model (``/v1/predict``, jobs), as
FastAPI dependencies: the model choice (task, model, version) and the sampling options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query

from model_artifact.card import NAME_MAX_LENGTH, NAME_PATTERN, Task
from service.dependencies import ResolverDep, SettingsDep
from service.errors import Problem
from service.pipeline import PredictOptions
from service.resolver import ModelChoice
from service.settings import Settings

MAX_INT32 = 2**31 - 1


def model_choice(
    resolver: ResolverDep,
    task: Annotated[
        Task | None,
        Query(
            description="micro (5 classes) or masked (2 classes); default: micro, "
            "or the task of `model` when given."
        ),
    ] = None,
    model: Annotated[
        str | None,
        Query(
            pattern=NAME_PATTERN,
            max_length=NAME_MAX_LENGTH,
            description="A model name from /v1/models.",
        ),
    ] = None,
    version: Annotated[int | None, Query(ge=1, le=MAX_INT32)] = None,
) -> ModelChoice:
    """The catalogued model version the request asked for (see ``Resolver.choose``)."""
    return resolver.choose(task, model, version)


def _sampling_options(
    cap_of: Callable[[Settings], int], cap_name: str
) -> Callable[..., PredictOptions]:
    """The sampling-options dependency of a route whose ``max_frames`` is capped by the setting
    ``cap_of`` returns (400 above it; the OpenAPI document states the cap, service/openapi.py)."""

    def options(
        settings: SettingsDep,
        sample_interval: Annotated[
            float,
            Query(ge=0, le=3600, description="Seconds between sampled frames; 0 = every frame."),
        ] = 0.5,
        detect_faces: Annotated[
            bool, Query(description="false: the whole image is the face box.")
        ] = True,
        max_frames: Annotated[int | None, Query(ge=1, le=MAX_INT32)] = None,
    ) -> PredictOptions:
        cap = cap_of(settings)
        if max_frames is not None and max_frames > cap:
            raise Problem(400, f"max_frames may be at most {cap}", title="Bad parameter")
        return PredictOptions(
            sample_interval=sample_interval,
            detect_faces=detect_faces,
            max_frames=max_frames or cap,
        )

    options.__doc__ = f"Sampling options; ``max_frames`` at most ``{cap_name}`` (400 above it)."
    return options


predict_options = _sampling_options(lambda s: s.max_frames, "MMED_MAX_FRAMES")
job_options = _sampling_options(lambda s: s.jobs_max_frames, "MMED_JOBS_MAX_FRAMES")


ModelChoiceDep = Annotated[ModelChoice, Depends(model_choice)]
PredictOptionsDep = Annotated[PredictOptions, Depends(predict_options)]
JobOptionsDep = Annotated[PredictOptions, Depends(job_options)]
