"""Admission control as pure ASGI middleware: shed excess load and oversized uploads early.

Both act before the multipart body is parsed, so a rejected request costs almost nothing.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PROBLEM_JSON
from service.metrics import Metrics

LIMITED_PATHS = ("/v1/predict",)
JOBS_HINT = "; for long recordings submit a job instead: POST /v1/jobs"


async def send_problem(
    send: Send, status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps(
        {
            "type": f"https://mmed.dev/problems/{title.lower().replace(' ', '-')}",
            "title": title,
            "status": status,
            "detail": detail,
        }
    ).encode()
    raw = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once an upload passes the limit mid-stream.

    An ``HTTPException`` on purpose: FastAPI turns any other exception raised while it parses
    the multipart body into a 400, but re-raises this one, so the app's handler answers 413.
    """

    title = "Upload too large"

    def __init__(self, detail: str) -> None:
        super().__init__(413, detail)


class UploadLimitMiddleware:
    """413 for an upload over ``max_bytes``: by Content-Length up front, else while streaming."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        metrics: Metrics,
        paths: tuple[str, ...] = LIMITED_PATHS,
        hint: str = JOBS_HINT,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.metrics = metrics
        self.paths = paths
        self.hint = hint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        detail = f"upload exceeds the limit of {self.max_bytes} bytes{self.hint}"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            self.metrics.rejected.labels("upload_too_large").inc()
            await send_problem(send, 413, "Upload too large", detail)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    self.metrics.rejected.labels("upload_too_large").inc()
                    raise BodyTooLarge(detail)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:  # raised outside FastAPI's body parsing (else its handler answers)
            if not started:
                await send_problem(send, 413, "Upload too large", detail)
        else:
            if received:
                self.metrics.upload_bytes.observe(received)


class ConcurrencyLimitMiddleware:
    """At most ``limit`` predictions at once; the next gets 503 + Retry-After immediately."""

    def __init__(self, app: ASGIApp, limit: int, retry_after_s: int, metrics: Metrics) -> None:
        self.app = app
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.metrics = metrics
        self.active = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in LIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            self.metrics.rejected.labels("saturated").inc()
            await send_problem(
                send,
                503,
                "Service saturated",
                f"all {self.limit} processing slots are busy; retry shortly",
                {"Retry-After": str(self.retry_after_s)},
            )
            return
        self.active += 1  # single-threaded event loop: no await between check and increment
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
