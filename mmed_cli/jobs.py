"""``mmed analyze``: whole recordings as server-side jobs (``/v1/jobs``), through the client.

A submit carries an ``Idempotency-Key`` made from the file's content and the options, so
running the same command again after Ctrl-C (or a dropped connection) follows the job already
on the server instead of uploading a second one; ``--job ID`` follows a job by its id.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from mmed_client import Client
from mmed_client.api.jobs import (
    get_job_v1_jobs_job_id_get,
    get_result_v1_jobs_job_id_result_get,
    submit_v1_jobs_post,
)
from mmed_client.models import BodySubmitV1JobsPost, Job, JobResult
from mmed_client.types import File
from tqdm import tqdm

from mmed_cli.api import PredictOptions, ProblemError, ServerError, _call, query

FINISHED = ("succeeded", "failed", "cancelled")
PAGE = 20_000  # frames per result request


def idempotency_key(path: Path, options: PredictOptions) -> str:
    """The same file with the same options → the same key (so the same job)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    digest.update(json.dumps(asdict(options), sort_keys=True).encode())
    return "mmed-cli-" + digest.hexdigest()[:48]


def submit(client: Client, path: Path, options: PredictOptions) -> Job:
    key = idempotency_key(path, options)
    with path.open("rb") as fh:
        body = BodySubmitV1JobsPost(file=File(payload=fh, file_name=path.name))
        return _call(
            submit_v1_jobs_post.sync_detailed,
            client=client,
            body=body,
            **query(options),
            idempotency_key=key,
        )


def get_job(client: Client, job_id: str) -> Job:
    return _call(get_job_v1_jobs_job_id_get.sync_detailed, job_id=job_id, client=client)


def follow(
    client: Client,
    job: Job,
    on_progress: Callable[[Job], None] = lambda _: None,
    poll_s: float = 1.0,
) -> Job:
    """Poll until the job has finished (a transient server error is retried)."""
    while job.status not in FINISHED:
        on_progress(job)
        time.sleep(poll_s)
        try:
            job = get_job(client, job.id)
        except ServerError:
            continue
    on_progress(job)
    return job


def follow_with_bar(client: Client, job: Job, name: str, quiet: bool, poll_s: float) -> Job:
    """``follow`` with a tqdm bar of frames done (on stderr)."""
    total = job.progress.frames_total
    bar = tqdm(
        total=total if isinstance(total, int) else None,
        desc=name[:24],
        unit="frame",
        disable=quiet,
        file=sys.stderr,
    )

    def show(j: Job) -> None:
        total = j.progress.frames_total
        if isinstance(total, int) and total != bar.total:
            bar.total = total
        bar.n = j.progress.frames_done
        bar.set_postfix_str(j.status, refresh=False)
        bar.refresh()

    try:
        return follow(client, job, show, poll_s)
    finally:
        bar.close()


def result(client: Client, job_id: str) -> JobResult:
    """The whole result, fetched in pages of ``PAGE`` frames."""
    first = _call(
        get_result_v1_jobs_job_id_result_get.sync_detailed,
        job_id=job_id,
        client=client,
        offset=0,
        limit=PAGE,
    )
    total = first.media.frames_sampled
    while len(first.frames) < total:
        page = _call(
            get_result_v1_jobs_job_id_result_get.sync_detailed,
            job_id=job_id,
            client=client,
            offset=len(first.frames),
            limit=PAGE,
        )
        if not page.frames:
            break
        first.frames.extend(page.frames)
    return first


__all__ = ["ProblemError", "ServerError", "follow", "get_job", "result", "submit"]
