"""``POST /v1/predict``: one upload in, per-frame labels out."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile

from service.auth import require_api_key
from service.backends.base import VersionNotLoaded, VersionNotServed
from service.dependencies import CatalogueDep, PipelineDep, SettingsDep
from service.disconnect import unless_disconnected
from service.errors import Problem
from service.pipeline import PredictOptions
from service.responses import PREDICT_ERRORS
from service.schemas import PredictResponse
from service.spotting import analysis_for

router = APIRouter(prefix="/v1", tags=["predict"], dependencies=[Depends(require_api_key)])


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses=PREDICT_ERRORS,
    summary="Label the face in every sampled frame of an image or video",
)
async def predict(
    request: Request,
    settings: SettingsDep,
    catalogue: CatalogueDep,
    pipeline: PipelineDep,
    file: Annotated[
        UploadFile,
        File(description="An image (JPEG/PNG/BMP/WebP) or a video (MP4/AVI/MOV/MKV/WebM)."),
    ],
    task: Annotated[
        Literal["micro", "masked"] | None,
        Query(
            description="micro (5 classes) or masked (2 classes); default: micro, "
            "or the task of `model` when given."
        ),
    ] = None,
    model: Annotated[
        str | None,
        Query(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="A model name from /v1/models."),
    ] = None,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    sample_interval: Annotated[
        float, Query(ge=0, le=3600, description="Seconds between sampled frames; 0 = every frame.")
    ] = 0.5,
    detect_faces: Annotated[
        bool, Query(description="false: the whole image is the face box.")
    ] = True,
    max_frames: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> PredictResponse:
    name = model or settings.default_model(task or "micro")
    chosen = catalogue.get(name, version)
    if task is not None and chosen.card.task != task:
        raise Problem(
            400,
            f"model {chosen.name!r} is a {chosen.card.task} model, not {task}",
            title="Bad parameter",
        )
    if max_frames is not None and max_frames > settings.max_frames:
        raise Problem(
            400, f"max_frames may be at most {settings.max_frames}", title="Bad parameter"
        )
    options = PredictOptions(
        sample_interval=sample_interval,
        detect_faces=detect_faces,
        max_frames=max_frames or settings.max_frames,
    )

    async def answer() -> PredictResponse:
        try:
            return await pipeline.run(file.file, chosen, options, analysis_for(chosen, options))
        except (VersionNotServed, VersionNotLoaded) as exc:
            # A rollout, seen by the catalogue and the backend at different times: with no
            # version asked for, answer with the version the backend serves.
            served = None if version is not None else catalogue.served_default(name, exc)
            if served is None or served.version == chosen.version:
                raise
            file.file.seek(0)
            return await pipeline.run(file.file, served, options, analysis_for(served, options))

    try:
        async with asyncio.timeout(settings.request_timeout_s):
            return await unless_disconnected(request, answer())
    except TimeoutError as exc:
        raise Problem(
            504,
            f"processing took longer than {settings.request_timeout_s:g} s",
            title="Processing timeout",
        ) from exc
