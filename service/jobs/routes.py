"""The job API (C5): thin handlers over ``app.state.jobs``.

Every route takes the same ``X-API-Key`` as ``/v1/predict``; a job belongs to the key that
created it (its SHA-256 is stored, never the key; an open gateway has one shared owner), and
any other key gets 404, as for an id that does not exist.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from service.auth import api_key_header, require_api_key
from service.dependencies import PipelineDep
from service.errors import Problem
from service.jobs import results
from service.jobs.files import DiskFull, new_id
from service.jobs.schemas import FINISHED, Job, JobList, JobParameters, JobProgress, JobResult
from service.jobs.service import Jobs
from service.jobs.store import DuplicateJob, JobRow
from service.media import MediaInfo, open_media
from service.pipeline import PredictOptions, model_ref
from service.responses import PREDICT_ERRORS, _problem
from service.routes.params import JobOptionsDep, ModelChoiceDep

router = APIRouter(prefix="/v1", tags=["jobs"], dependencies=[Depends(require_api_key)])

NDJSON = "application/x-ndjson"
JOB_ERRORS = {
    **PREDICT_ERRORS,
    404: _problem("No such job for this API key (or unknown model)"),
    409: _problem("The job has not succeeded (no result yet, or it failed)"),
    507: _problem("The jobs directory is full (MMED_JOBS_MAX_BYTES)"),
}


def get_jobs(request: Request) -> Jobs:
    jobs = getattr(request.app.state, "jobs", None)
    if jobs is None:
        raise Problem(503, "jobs are disabled on this gateway (MMED_JOBS_ENABLED)")
    return jobs


def job_owner(request: Request, presented: str | None = Depends(api_key_header)) -> str:
    """The owner of the caller's jobs: the key's SHA-256 (require_api_key checked it)."""
    if not request.app.state.settings.api_keys or presented is None:
        return "open"
    return hashlib.sha256(presented.encode()).hexdigest()


JobsDep = Annotated[Jobs, Depends(get_jobs)]
OwnerDep = Annotated[str, Depends(job_owner)]


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def to_job(row: JobRow) -> Job:
    eta = None
    if row.status == "running" and row.rate_fps and row.frames_total:
        eta = round(max(0.0, (row.frames_total - row.frames_done) / row.rate_fps), 1)
    return Job(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]
        progress=JobProgress(
            frames_done=row.frames_done,
            frames_total=row.frames_total,
            media_s_done=round(row.media_s_done, 6),
            media_s_total=row.media_s_total,
        ),
        eta_s=eta,
        created_at=_iso(row.created_at) or "",
        started_at=_iso(row.started_at),
        finished_at=_iso(row.finished_at),
        error=row.error,  # type: ignore[arg-type]
        parameters=JobParameters(**row.parameters),
        model=row.model,  # type: ignore[arg-type]
    )


async def owned(jobs: Jobs, job_id: str, owner: str) -> JobRow:
    row = None
    try:
        jobs.files.dir(job_id)  # the id's shape: nothing else reaches the store or a path
        row = await asyncio.to_thread(jobs.store.get, job_id)
    except ValueError:
        pass
    if row is None or row.owner != owner:
        raise Problem(404, f"no job {job_id!r}", title="Job not found")
    return row


@router.post(
    "/jobs",
    status_code=202,
    response_model=Job,
    responses=JOB_ERRORS,
    summary="Submit an image or video for analysis as a durable job",
)
async def submit(
    response: Response,
    jobs: JobsDep,
    owner: OwnerDep,
    pipeline: PipelineDep,
    file: Annotated[
        UploadFile,
        File(description="An image (JPEG/PNG/BMP/WebP/TIFF) or a video (MP4/AVI/MOV/MKV/WebM)."),
    ],
    choice: ModelChoiceDep,
    sampling: JobOptionsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description="A retried submit with the same key returns the same job.",
        ),
    ] = None,
) -> Job:
    """202 + ``Location``: the job runs in the background; poll it, or follow its events."""
    if idempotency_key:
        existing = await asyncio.to_thread(jobs.store.by_idempotency_key, owner, idempotency_key)
        if existing is not None:
            response.headers["Location"] = f"/v1/jobs/{existing.id}"
            return to_job(existing)
    chosen = choice.model  # the version is fixed now: a job never changes model midway
    job_id = new_id()
    try:
        size = await asyncio.to_thread(jobs.files.store_upload, job_id, file.file)
    except DiskFull as exc:
        raise Problem(
            507,
            f"the jobs storage is full ({exc}); retry after finished jobs expire or are deleted",
            title="Insufficient storage",
            headers={"Retry-After": "60"},
        ) from exc
    try:
        info = await asyncio.to_thread(_probe, jobs, job_id)
        options = JobParameters(
            task=chosen.card.task,
            model=chosen.name,
            version=chosen.version,
            sample_interval=sampling.sample_interval,
            detect_faces=sampling.detect_faces,
            max_frames=sampling.max_frames,
        )
        row = JobRow(
            id=job_id,
            owner=owner,
            idem_key=idempotency_key or None,
            status="queued",
            parameters=options.model_dump(),
            model=model_ref(chosen, pipeline.gate_for(chosen)).model_dump(mode="json"),
            created_at=time.time(),
            frames_total=results.expected_frames(info, _options(options)),
            media_s_total=info.duration_s,
            upload_bytes=size,
        )
        await asyncio.to_thread(jobs.store.create, row)
    except DuplicateJob:  # the same key submitted concurrently: that one wins
        await asyncio.to_thread(jobs.files.remove, job_id)
        assert idempotency_key is not None  # a duplicate needs one
        existing = await asyncio.to_thread(jobs.store.by_idempotency_key, owner, idempotency_key)
        assert existing is not None
        row = existing
    except BaseException:
        await asyncio.shield(asyncio.to_thread(jobs.files.remove, job_id))
        raise
    jobs.runner.notify()
    response.headers["Location"] = f"/v1/jobs/{row.id}"
    return to_job(row)


def _probe(jobs: Jobs, job_id: str) -> MediaInfo:
    """Open the stored upload once: 415/422/413 now rather than a failed job later."""
    with open(jobs.files.upload(job_id), "rb") as f, open_media(f, jobs.limits) as source:
        return source.info


def _options(p: JobParameters) -> PredictOptions:
    return PredictOptions(p.sample_interval, p.detect_faces, p.max_frames)


@router.get("/jobs", response_model=JobList, responses=JOB_ERRORS)
async def list_jobs(
    jobs: JobsDep,
    owner: OwnerDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JobList:
    """The caller's jobs, newest first."""
    rows = await asyncio.to_thread(jobs.store.list, owner, limit)
    return JobList(jobs=[to_job(r) for r in rows])


@router.get("/jobs/{job_id}", response_model=Job, responses=JOB_ERRORS)
async def get_job(job_id: str, jobs: JobsDep, owner: OwnerDep) -> Job:
    """Status, progress and ETA of one job."""
    return to_job(await owned(jobs, job_id, owner))


@router.get(
    "/jobs/{job_id}/result",
    response_model=JobResult,
    responses={
        **JOB_ERRORS,
        200: {
            "description": "The /v1/predict body (frames paginated), or with "
            f"`Accept: {NDJSON}` one frame (FrameResult) per line.",
            "content": {NDJSON: {"schema": {"$ref": "#/components/schemas/FrameResult"}}},
        },
    },
)
async def get_result(
    job_id: str,
    request: Request,
    jobs: JobsDep,
    owner: OwnerDep,
    offset: Annotated[int, Query(ge=0, description="First frame (0-based) of the page.")] = 0,
    limit: Annotated[
        int | None, Query(ge=1, le=10**7, description="Frames in the page; default: all.")
    ] = None,
) -> Response:
    """The finished job's result, streamed from its stored frames."""
    row = await owned(jobs, job_id, owner)
    if row.status != "succeeded" or row.result is None:
        raise Problem(
            409, f"job {job_id!r} is {row.status}; no result", title="Result not available"
        )
    try:  # opened now: a delete or expiry while the body streams does not cut it
        frames = await asyncio.to_thread(open, jobs.files.frames(job_id), "rb")
    except FileNotFoundError as exc:
        raise Problem(404, f"no job {job_id!r}", title="Job not found") from exc
    if NDJSON in request.headers.get("accept", ""):
        return StreamingResponse(
            results.ndjson(frames, row.model["classes"], offset, limit), media_type=NDJSON
        )
    return StreamingResponse(
        results.body(row.result, row.model, frames, offset, limit), media_type="application/json"
    )


@router.get(
    "/jobs/{job_id}/events",
    responses={
        **JOB_ERRORS,
        200: {
            "description": "Server-Sent Events: `event: progress` (data: the Job) repeatedly, "
            "then one `event: end` (data: the Job) when it has finished.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    },
    response_class=StreamingResponse,
)
async def job_events(job_id: str, request: Request, jobs: JobsDep, owner: OwnerDep) -> Response:
    """Progress as Server-Sent Events (read it with fetch(): the key stays in a header)."""
    first = await owned(jobs, job_id, owner)
    every = jobs.settings.jobs_events_s

    async def stream() -> AsyncIterator[bytes]:
        row: JobRow | None = first
        last = first
        while row is not None and row.owner == owner:
            last = row
            data = to_job(row).model_dump_json()
            if row.status in FINISHED:
                yield f"event: end\ndata: {data}\n\n".encode()
                return
            yield f"event: progress\ndata: {data}\n\n".encode()
            await asyncio.sleep(every)
            if await request.is_disconnected():
                return
            row = await asyncio.to_thread(jobs.store.get, job_id)
        # Deleted meanwhile: the last state seen ends the stream.
        yield f"event: end\ndata: {to_job(last).model_dump_json()}\n\n".encode()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.delete(
    "/jobs/{job_id}",
    status_code=202,
    response_model=Job,
    responses={**JOB_ERRORS, 204: {"description": "A finished job and its data were deleted."}},
)
async def delete_job(job_id: str, jobs: JobsDep, owner: OwnerDep) -> Response | Job:
    """Cancel a queued or running job (202, its files removed), or delete a finished one
    with its data (204)."""
    row = await owned(jobs, job_id, owner)
    if row.status not in FINISHED and await asyncio.to_thread(jobs.store.cancel, job_id):
        await asyncio.to_thread(jobs.files.remove, job_id)
        cancelled = await asyncio.to_thread(jobs.store.get, job_id)
        return to_job(cancelled or row)
    await asyncio.to_thread(jobs.files.remove, job_id)
    await asyncio.to_thread(jobs.store.delete, job_id)
    return Response(status_code=204)
