"""Prometheus series of the job subsystem, on the gateway's registry (``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from service.jobs.schemas import JobStatus

JOB_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)
STATUSES: tuple[JobStatus, ...] = ("queued", "running", "succeeded", "failed", "cancelled")


class JobMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.queue_depth = Gauge(
            "mmed_jobs_queue_depth", "Jobs waiting to be claimed (all replicas).", registry=r
        )
        self.by_status = Gauge(
            "mmed_jobs", "Jobs in the store by status (all replicas).", ["status"], registry=r
        )
        self.running_here = Gauge(
            "mmed_jobs_running_local", "Jobs this gateway is running now.", registry=r
        )
        self.seconds = Histogram(
            "mmed_job_duration_seconds",
            "Wall time of finished jobs, from first start to finish, by final status.",
            ["status"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.frames = Counter(
            "mmed_job_frames", "Frames analysed by jobs on this gateway.", registry=r
        )
        self.fps = Gauge(
            "mmed_job_frames_per_second",
            "Frames per second of the jobs running on this gateway (sum).",
            registry=r,
        )
        self.resumed = Counter(
            "mmed_jobs_resumed", "Jobs resumed from a checkpoint on this gateway.", registry=r
        )

    def set_counts(self, counts: dict[str, int]) -> None:
        for status in STATUSES:
            self.by_status.labels(status).set(counts.get(status, 0))
        self.queue_depth.set(counts.get("queued", 0))
