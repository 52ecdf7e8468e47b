"""Worker tasks in the gateway process: claim a job, stream it through the pipeline into its
frames file, checkpoint, finish.

- Concurrency: ``workers`` jobs at a time per gateway (each one uses a decode thread, a detect
  thread and the backend, like one ``/v1/predict`` request).
- Checkpoints: every ``beat_s`` a heartbeat task fsyncs the frames file and writes the last
  safe resume point (just before the latest keyframe, see ``FrameRecord.keyframe``) with the
  progress, renewing the lease. After a SIGKILL the job's lease runs out and whichever gateway
  claims it next cuts the file at that point and resumes with ``start_after``: no gap, no
  duplicate, the same frames as an uninterrupted run.
- Shutdown (SIGTERM → lifespan end): running jobs checkpoint and go back to the queue.
- Cancel: the route marks the job cancelled; the worker's next write fails and it stops.
- Housekeeping: finished jobs older than ``ttl_h`` are deleted with their files; orphaned
  directories are removed; the status gauges are refreshed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass

from model_artifact import ModelVersion
from service.backends.base import BackendError
from service.catalogue import Catalogue, CatalogueError
from service.errors import Problem
from service.gate import pinned_gate
from service.jobs import results
from service.jobs.files import JobFiles, new_id
from service.jobs.metrics import JobMetrics
from service.jobs.records import FramesWriter
from service.jobs.store import Checkpoint, JobRow, Progress, SqlStore
from service.media import MediaError, MediaInfo
from service.pipeline import Analysis, FrameRecord, FrameStream, Pipeline, PredictOptions

log = logging.getLogger("mmed.jobs")

AnalysisFactory = Callable[[ModelVersion, PredictOptions], Analysis | None]


@dataclass(frozen=True)
class RunnerConfig:
    workers: int = 1
    lease_s: float = 30.0
    beat_s: float = 2.0
    poll_s: float = 1.0
    ttl_h: float = 168.0
    sweep_s: float = 60.0
    max_attempts: int = 5
    stop_grace_s: float = 10.0


def no_analysis(model: ModelVersion, options: PredictOptions) -> Analysis | None:
    return None


def options_of(row: JobRow) -> PredictOptions:
    p = row.parameters
    return PredictOptions(
        sample_interval=p["sample_interval"],
        detect_faces=p["detect_faces"],
        max_frames=p["max_frames"],
    )


class _Lost(Exception):
    """The job is no longer this worker's (cancelled or taken over)."""


class JobRunner:
    def __init__(
        self,
        store: SqlStore,
        files: JobFiles,
        pipeline: Pipeline,
        catalogue: Catalogue,
        metrics: JobMetrics,
        config: RunnerConfig,
        analysis: AnalysisFactory = no_analysis,
    ) -> None:
        self.store = store
        self.files = files
        self.pipeline = pipeline
        self.catalogue = catalogue
        self.metrics = metrics
        self.config = config
        self.analysis = analysis
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{new_id()[:8]}"
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.rates: dict[str, float] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        for n in range(self.config.workers):
            self.tasks.append(asyncio.create_task(self._work(), name=f"mmed-job-worker-{n}"))
        self.tasks.append(asyncio.create_task(self._housekeeping(), name="mmed-job-sweeper"))

    async def stop(self) -> None:
        """Checkpoint and hand back running jobs; wait for the workers (then cancel them)."""
        self.stopping.set()
        self.wake.set()
        _, pending = await asyncio.wait(self.tasks, timeout=self.config.stop_grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def notify(self) -> None:
        """A job was submitted here: look for work now instead of at the next poll."""
        self.wake.set()

    # -- work -------------------------------------------------------------------------------
    async def _work(self) -> None:
        while not self.stopping.is_set():
            try:
                row = await asyncio.to_thread(self.store.claim, self.worker_id, self.config.lease_s)
            except Exception:
                log.exception("job store unavailable; retrying")
                row = None
            if row is None:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.config.poll_s):
                        await self.wake.wait()
                continue
            self.wake.set()  # another queued job may wait for a sibling worker
            try:
                await self._run(row)
            except Exception:
                log.exception("job %s: unexpected error", row.id)

    async def _run(self, row: JobRow) -> None:
        log.info("job %s: claimed (attempt %d)", row.id, row.attempts)
        if row.attempts > self.config.max_attempts:
            await self._fail(row, 500, f"gave up after {row.attempts - 1} attempts")
            return
        try:
            model = self.catalogue.get(row.parameters["model"], row.parameters["version"])
            gate = pinned_gate(self.catalogue.get, model, row.model.get("gate"))
        except CatalogueError as exc:  # removed from the repository since the submit
            await self._fail(row, 409, str(exc), "Model unavailable")
            return
        options = options_of(row)
        start = Checkpoint(row.ckpt_offset, row.ckpt_index, row.ckpt_frames)
        if start.frames:
            self.metrics.resumed.inc()
            log.info("job %s: resuming after frame %s (%d done)", row.id, start.index, start.frames)
        self.metrics.running_here.inc()
        try:
            await self._stream(row, model, options, start, self.pipeline.with_gate(gate))
        except _Lost:
            log.info("job %s: no longer ours (cancelled or taken over); stopped", row.id)
            current = await asyncio.to_thread(self.store.get, row.id)
            if current is None or current.status == "cancelled":
                await asyncio.to_thread(self.files.remove, row.id)
        except MediaError as exc:
            await self._fail(row, exc.status, exc.detail, exc.title)
        except BackendError as exc:
            await self._fail(row, exc.status, str(exc), exc.title)
        except OSError as exc:
            await self._fail(row, 500, f"job files unavailable: {exc.strerror or exc}")
        finally:
            self.metrics.running_here.dec()
            self.rates.pop(row.id, None)
            self.metrics.fps.set(sum(self.rates.values()))

    async def _stream(
        self,
        row: JobRow,
        model: ModelVersion,
        options: PredictOptions,
        start: Checkpoint,
        pipeline: Pipeline,
    ) -> None:
        attempt_started = time.perf_counter()
        writer = await asyncio.to_thread(FramesWriter, self.files.frames(row.id), start)
        upload = await asyncio.to_thread(open, self.files.upload(row.id), "rb")
        analysis = self.analysis(model, options)
        stream = pipeline.stream(upload, model, options, analysis, start.index)
        progress = Progress(start.frames, row.frames_total, row.media_s_done, None, None)
        lost = asyncio.Event()

        def current() -> Progress:
            return progress

        beat = asyncio.create_task(self._beat(row, writer, current, lost))
        ended = False
        try:
            async with aclosing(stream):
                async for record in stream:
                    writer.append(record)
                    assert stream.info is not None
                    progress = _progress(
                        writer.frames, start.frames, attempt_started, record, stream.info, options
                    )
                    self.metrics.frames.inc()
                    if progress.rate_fps is not None:
                        self.rates[row.id] = progress.rate_fps
                    if lost.is_set():
                        raise _Lost
                    if self.stopping.is_set():
                        break
                else:
                    ended = True
            if lost.is_set():
                raise _Lost
            if not ended:  # shutting down: the next claim resumes from the checkpoint
                await self._hand_back(row, writer, progress)
                return
            await self._succeed(row, writer, stream, model, options, analysis, progress)
        except asyncio.CancelledError:  # shutdown past its grace: hand back what is on disk
            if not lost.is_set():
                await asyncio.shield(self._hand_back(row, writer, progress))
            raise
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
            await asyncio.to_thread(upload.close)
            await asyncio.to_thread(writer.close)

    async def _succeed(
        self,
        row: JobRow,
        writer: FramesWriter,
        stream: FrameStream,
        model: ModelVersion,
        options: PredictOptions,
        analysis: Analysis | None,
        progress: Progress,
    ) -> None:
        """The stream ended: close the frames file, store the summary and mark it succeeded."""
        final = await asyncio.to_thread(writer.end)
        info = stream.info
        assert info is not None
        total_s = time.time() - (row.started_at or time.time())
        meta = await asyncio.to_thread(
            results.summarise_frames,
            self.files.frames(row.id),
            model,
            info,
            options,
            stream.clock,
            total_s,
            analysis,
        )
        ok = await asyncio.to_thread(
            self.store.finish,
            row.id,
            self.worker_id,
            "succeeded",
            frames_done=final.frames,
            frames_total=final.frames,
            media_s_done=progress.media_s_done,
            media_s_total=info.duration_s,
            ckpt_offset=final.offset,
            ckpt_index=final.index,
            ckpt_frames=final.frames,
            result=meta,
        )
        if not ok:
            raise _Lost
        self.metrics.seconds.labels("succeeded").observe(total_s)
        log.info("job %s: succeeded (%d frames, %.1f s)", row.id, final.frames, total_s)

    async def _beat(
        self,
        row: JobRow,
        writer: FramesWriter,
        progress: Callable[[], Progress],
        lost: asyncio.Event,
    ) -> None:
        """Every ``beat_s``: fsync, store the safe point and progress, renew the lease."""
        while True:
            await asyncio.sleep(self.config.beat_s)
            safe = writer.safe  # taken before the flush: all of it is on disk after
            try:
                await asyncio.to_thread(writer.sync)
                ok = await asyncio.to_thread(
                    self.store.heartbeat,
                    row.id,
                    self.worker_id,
                    self.config.lease_s,
                    progress(),
                    safe,
                )
            except Exception:
                log.exception("job %s: heartbeat failed; retrying", row.id)
                continue
            self.metrics.fps.set(sum(self.rates.values()))
            if not ok:
                lost.set()
                return

    async def _hand_back(self, row: JobRow, writer: FramesWriter, progress: Progress) -> None:
        safe = writer.safe
        await asyncio.to_thread(writer.sync)
        await asyncio.to_thread(
            self.store.heartbeat, row.id, self.worker_id, self.config.lease_s, progress, safe
        )
        await asyncio.to_thread(self.store.release, row.id, self.worker_id)
        log.info("job %s: handed back at frame %s (shutdown)", row.id, safe.index)

    async def _fail(self, row: JobRow, status: int, detail: str, title: str | None = None) -> None:
        error = Problem(status, detail, title=title)
        problem = {
            "type": f"https://mmed.dev/problems/{error.title.lower().replace(' ', '-')}",
            "title": error.title,
            "status": status,
            "detail": detail,
        }
        await asyncio.to_thread(self.store.finish, row.id, self.worker_id, "failed", error=problem)
        self.metrics.seconds.labels("failed").observe(time.time() - (row.started_at or time.time()))
        log.warning("job %s: failed: %s", row.id, detail)

    # -- housekeeping -----------------------------------------------------------------------
    async def _housekeeping(self) -> None:
        last_sweep = 0.0
        while not self.stopping.is_set():
            try:
                counts = await asyncio.to_thread(self.store.counts)
                self.metrics.set_counts(counts)
                if time.monotonic() - last_sweep >= self.config.sweep_s:
                    await asyncio.to_thread(self.sweep)
                    last_sweep = time.monotonic()
            except Exception:
                log.exception("job housekeeping failed; retrying")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(5.0, self.config.sweep_s)):
                    await self.stopping.wait()

    def sweep(self) -> list[str]:
        """Delete finished jobs past the TTL (files first), and orphaned directories."""
        removed = self.store.expired(time.time() - self.config.ttl_h * 3600)
        for job_id in removed:
            self.files.remove(job_id)
            self.store.delete(job_id)
        known = self.store.ids()
        for job_id in self.files.orphans(known, older_than_s=3600):
            self.files.remove(job_id)
        if removed:
            log.info("expired %d finished jobs", len(removed))
        return removed


def _progress(
    frames: int,
    resumed_at: int,
    attempt_started: float,
    record: FrameRecord,
    info: MediaInfo,
    options: PredictOptions,
) -> Progress:
    """The progress after ``record``; the rate counts this attempt's frames only."""
    elapsed = time.perf_counter() - attempt_started
    rate = (frames - resumed_at) / elapsed if elapsed > 0 else None
    return Progress(
        frames, results.expected_frames(info, options), record.timestamp_s, info.duration_s, rate
    )
