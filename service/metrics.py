"""Prometheus metrics of one gateway app (its own registry, exposed at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
SIZE_BUCKETS = tuple(2**k for k in range(10, 31, 2))  # 1 KiB .. 1 GiB


class Metrics:
    """All series the gateway exports; names are prefixed ``mmed_``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "mmed_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "mmed_http_request_duration_seconds",
            "HTTP request latency by route and status.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("mmed_http_requests_in_flight", "Requests being served.", registry=r)
        self.rejected = Counter(
            "mmed_requests_rejected",
            "Requests shed before processing, by reason.",
            ["reason"],
            registry=r,
        )
        self.upload_bytes = Histogram(
            "mmed_upload_bytes", "Size of accepted uploads.", buckets=SIZE_BUCKETS, registry=r
        )
        self.frames_sampled = Counter(
            "mmed_frames_sampled", "Frames sampled from uploads.", ["kind"], registry=r
        )
        self.faces_found = Counter(
            "mmed_faces_found", "Sampled frames in which a face was found.", ["kind"], registry=r
        )
        self.predictions = Counter(
            "mmed_predictions",
            "Per-frame predictions by model and label.",
            ["model", "label"],
            registry=r,
        )
        self.stage = Histogram(
            "mmed_stage_duration_seconds",
            "Time per request spent in each pipeline stage.",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.backend_latency = Histogram(
            "mmed_backend_request_duration_seconds",
            "Latency of one backend call.",
            ["backend", "model"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.backend_errors = Counter(
            "mmed_backend_errors",
            "Backend failures by error code.",
            ["backend", "code"],
            registry=r,
        )
