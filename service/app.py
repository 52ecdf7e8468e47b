"""The ASGI application (``service.app:app``): wiring only — settings, catalogue, backend,
pipeline, middleware and routes. No request logic lives here."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from service.backends.base import Backend
from service.catalogue import Catalogue, CatalogueError
from service.errors import install_error_handlers
from service.faces import FaceDetector
from service.faces.still import image_search
from service.gate import smile_gates
from service.jobs import routes as job_routes
from service.jobs.metrics import JobMetrics
from service.jobs.service import open_jobs
from service.limits import ConcurrencyLimitMiddleware, UploadLimitMiddleware
from service.media import MediaLimits
from service.metrics import Metrics
from service.observability import RequestContextMiddleware, configure_logging
from service.openapi import install_openapi
from service.pipeline import Pipeline
from service.resolver import Resolver
from service.routes import health, models, predict
from service.settings import Settings, settings_from_env
from service.spotting import analysis_for
from service.ui import router as ui_router

log = logging.getLogger("mmed.app")
VERSION = "0.1.0"


def make_backend(settings: Settings, metrics: Metrics) -> Backend:
    """The backend named by ``MMED_BACKEND``."""
    if settings.backend == "tfserving":
        from service.backends.tfserving import TFServingBackend

        return TFServingBackend(settings, metrics)
    from service.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(settings, metrics)


def use_private_tmpdir() -> Path:
    """Spool uploads into a fresh 0700 directory of this process (removed at shutdown)."""
    path = Path(tempfile.mkdtemp(prefix="mmed-uploads-"))
    tempfile.tempdir = str(path)
    return path


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    tmpdir = use_private_tmpdir()
    app.state.upload_dir = tmpdir
    backend: Backend = app.state.backend
    defaults = []
    for name in (settings.default_micro_model, settings.default_masked_model):
        try:
            defaults.append(app.state.catalogue.get(name))
        except CatalogueError as exc:  # a missing default leaves the app alive but not ready
            log.error("default model %s is not in the repository: %s", name, exc)
    await backend.start(defaults)
    log.info("ready: backend=%s models=%s", backend.name, [m.name for m in defaults])
    if settings.jobs_enabled:
        # app.state.job_analysis: (model, options) -> Analysis | None, the jobs' post-stage.
        app.state.jobs = open_jobs(
            settings,
            app.state.pipeline,
            app.state.catalogue,
            app.state.job_metrics,
            app.state.job_analysis,
        )
    try:
        yield
    finally:
        jobs = getattr(app.state, "jobs", None)
        if jobs is not None:  # running jobs checkpoint and go back to the queue
            await jobs.close()
            app.state.jobs = None
        await backend.close()
        tempfile.tempdir = None
        shutil.rmtree(tmpdir, ignore_errors=True)


def create_app(settings: Settings | None = None, backend: Backend | None = None) -> FastAPI:
    """Build a gateway; ``backend`` overrides the one ``settings`` names (tests)."""
    settings = settings or settings_from_env()
    configure_logging(settings.log_level)
    metrics = Metrics()
    app = FastAPI(
        title="MMED Serve",
        version=VERSION,
        summary="Frame-by-frame micro- and masked-expression recognition.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.job_metrics = JobMetrics(metrics.registry)
    app.state.job_analysis = analysis_for  # spotting (C4): events for every-frame jobs
    app.state.catalogue = Catalogue(settings.model_repository, settings.catalogue_refresh_s)
    app.state.resolver = Resolver(app.state.catalogue, settings)
    app.state.backend = backend or make_backend(settings, metrics)
    detector = FaceDetector()
    app.state.pipeline = Pipeline(
        app.state.backend,
        detector,
        MediaLimits(
            max_pixels=settings.max_pixels,
            max_video_s=settings.max_video_s,
            max_frames=settings.max_frames,
        ),
        metrics,
        batch=settings.inference_batch,
        track_ahead=settings.track_ahead,
        image_search=image_search(settings.image_detector, detector),
        gates=smile_gates(app.state.catalogue.get, settings.smile_gate),
    )
    install_error_handlers(app)
    for router in (predict.router, models.router, health.router, job_routes.router, ui_router):
        app.include_router(router)
    # Added innermost first: the request context wraps everything, then admission control.
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.max_upload_bytes, metrics=metrics)
    app.add_middleware(
        UploadLimitMiddleware,
        max_bytes=settings.jobs_max_upload_bytes,
        metrics=metrics,
        paths=("/v1/jobs",),
        hint="",
    )
    app.add_middleware(
        ConcurrencyLimitMiddleware,
        limit=settings.max_concurrency,
        retry_after_s=settings.retry_after_s,
        metrics=metrics,
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    install_openapi(app)
    return app


app = create_app()
