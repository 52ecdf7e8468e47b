"""``GET /v1/models`` and ``GET /v1/models/{name}``: the catalogue with serving status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from model_artifact import ModelVersion
from model_artifact.card import NAME_MAX_LENGTH, NAME_PATTERN
from service.auth import require_api_key
from service.backends.base import Backend
from service.catalogue import Catalogue
from service.dependencies import BackendDep, CatalogueDep, SettingsDep
from service.responses import MODEL_ERRORS
from service.schemas import ModelInfo, ModelList, ModelStatus
from service.settings import Settings

router = APIRouter(prefix="/v1", tags=["models"], dependencies=[Depends(require_api_key)])


async def describe(
    mv: ModelVersion, catalogue: Catalogue, backend: Backend, settings: Settings
) -> ModelInfo:
    status: ModelStatus = "available" if await backend.ready([mv]) else "unavailable"
    return ModelInfo(
        **mv.card.model_dump(),
        status=status,
        versions=catalogue.versions(mv.name),
        default_for_task=settings.default_model(mv.card.task) == mv.name,
        runtime=backend.runtime_of(mv),
    )


@router.get("/models", response_model=ModelList, responses=MODEL_ERRORS)
async def list_models(
    catalogue: CatalogueDep,
    backend: BackendDep,
    settings: SettingsDep,
) -> ModelList:
    """Every model's highest version, with its card and status."""
    return ModelList(
        models=[await describe(mv, catalogue, backend, settings) for mv in catalogue.latest()]
    )


@router.get("/models/{name}", response_model=ModelInfo, responses=MODEL_ERRORS)
async def get_model(
    name: Annotated[str, Path(pattern=NAME_PATTERN, max_length=NAME_MAX_LENGTH)],
    catalogue: CatalogueDep,
    backend: BackendDep,
    settings: SettingsDep,
) -> ModelInfo:
    """One model's highest version, with its card and status."""
    return await describe(catalogue.get(name), catalogue, backend, settings)
