"""The job subsystem of one gateway: store, files, runner (``app.state.jobs``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from service.catalogue import Catalogue
from service.jobs.files import JobFiles
from service.jobs.metrics import JobMetrics
from service.jobs.runner import AnalysisFactory, JobRunner, RunnerConfig, no_analysis
from service.jobs.store import SqlStore, open_store
from service.media import MediaLimits
from service.pipeline import Pipeline
from service.settings import Settings


@dataclass
class Jobs:
    settings: Settings
    store: SqlStore
    files: JobFiles
    runner: JobRunner
    limits: MediaLimits

    async def ready(self) -> bool:
        try:
            await asyncio.to_thread(self.store.ping)
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.runner.stop()
        await asyncio.to_thread(self.store.close)


def open_jobs(
    settings: Settings,
    pipeline: Pipeline,
    catalogue: Catalogue,
    metrics: JobMetrics,
    analysis: AnalysisFactory = no_analysis,
) -> Jobs:
    """Open the store and the directory and start the workers (inside the running loop)."""
    files = JobFiles(settings.jobs_dir, settings.jobs_max_bytes)
    store = open_store(settings.jobs_db, str(settings.jobs_dir / "jobs.sqlite3"))
    limits = MediaLimits(
        max_pixels=settings.max_pixels,
        max_video_s=settings.jobs_max_video_s,
        max_frames=settings.jobs_max_frames,
    )
    config = RunnerConfig(
        workers=settings.jobs_workers,
        lease_s=settings.jobs_lease_s,
        beat_s=settings.jobs_beat_s,
        poll_s=settings.jobs_poll_s,
        ttl_h=settings.jobs_ttl_h,
    )
    runner = JobRunner(
        store, files, pipeline.with_limits(limits), catalogue, metrics, config, analysis
    )
    runner.start()
    return Jobs(settings, store, files, runner, limits)
