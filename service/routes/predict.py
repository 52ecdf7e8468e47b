"""``POST /v1/predict``: one upload in, per-frame labels out."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile

from model_artifact import ModelVersion
from service.auth import require_api_key
from service.dependencies import PipelineDep, ResolverDep, SettingsDep
from service.disconnect import unless_disconnected
from service.errors import Problem
from service.responses import PREDICT_ERRORS
from service.routes.params import ModelChoiceDep, PredictOptionsDep
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
    resolver: ResolverDep,
    pipeline: PipelineDep,
    file: Annotated[
        UploadFile,
        File(description="An image (JPEG/PNG/BMP/WebP/TIFF) or a video (MP4/AVI/MOV/MKV/WebM)."),
    ],
    choice: ModelChoiceDep,
    options: PredictOptionsDep,
) -> PredictResponse:
    async def answer(model: ModelVersion) -> PredictResponse:
        file.file.seek(0)  # a rollout retry reads the upload again
        return await pipeline.run(file.file, model, options, analysis_for(model, options))

    try:
        async with asyncio.timeout(settings.request_timeout_s):
            return await unless_disconnected(request, resolver.run(choice, answer))
    except TimeoutError as exc:
        raise Problem(
            504,
            f"processing took longer than {settings.request_timeout_s:g} s",
            title="Processing timeout",
        ) from exc
