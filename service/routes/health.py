"""Probes and metrics. Open even when API keys are set: orchestrators and scrapers call them,
and they reveal nothing a client sends."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from model_artifact import ModelVersion
from service.backends.base import Backend
from service.dependencies import BackendDep, CatalogueDep, SettingsDep
from service.errors import Problem
from service.responses import READY_ERRORS
from service.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=READY_ERRORS)
async def readyz(
    request: Request,
    catalogue: CatalogueDep,
    backend: BackendDep,
    settings: SettingsDep,
) -> Health:
    """The backend is reachable and serves a version of both tasks' default models, and the
    job store (when jobs are on) answers.

    Any catalogued version counts, newest first: during a rollout the catalogue may list a
    version the backend is still loading, and requests are answered by the one it serves."""
    names = [settings.default_micro_model, settings.default_masked_model]
    try:
        versions = [catalogue.newest_first(n) for n in names]
    except Problem as exc:
        raise Problem(503, f"default model missing: {exc.detail}", title="Not ready") from exc
    if not all([await _any_ready(backend, found) for found in versions]):
        raise Problem(
            503,
            f"backend {backend.name!r} is not serving {names}",
            title="Not ready",
            headers={"Retry-After": str(settings.retry_after_s)},
        )
    jobs = getattr(request.app.state, "jobs", None)
    if jobs is not None and not await jobs.ready():
        raise Problem(
            503,
            "the job store is unreachable",
            title="Not ready",
            headers={"Retry-After": str(settings.retry_after_s)},
        )
    return Health(status="ready", backend=backend.name, models=names)


@router.get("/metrics", response_class=Response, include_in_schema=True)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition format."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


async def _any_ready(backend: Backend, versions: list[ModelVersion]) -> bool:
    for version in versions:
        if await backend.ready([version]):
            return True
    return False
