"""RFC 9457 problem details: every error the gateway returns is ``application/problem+json``."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.backends.base import BackendError
from service.media import MediaError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("mmed.errors")


class Problem(Exception):
    """An error answer: ``status``, a short ``title`` and a human ``detail``."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.headers = headers or {}


def problem_response(
    status: int, detail: str, title: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    title = title or HTTPStatus(status).phrase
    body = {
        "type": f"https://mmed.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def retry_after(request: Request) -> dict[str, str]:
    return {"Retry-After": str(request.app.state.settings.retry_after_s)}


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception a request can raise to problem+json (never a bare 500 for input)."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, exc.title, exc.headers)

    @app.exception_handler(MediaError)
    async def _media(request: Request, exc: MediaError) -> JSONResponse:
        detail = str(exc)
        if exc.status == 413 and request.url.path == "/v1/predict":
            detail += "; for long recordings submit a job instead: POST /v1/jobs"
        return problem_response(exc.status, detail, exc.title)

    @app.exception_handler(BackendError)
    async def _backend(request: Request, exc: BackendError) -> JSONResponse:
        if exc.status >= 500:
            log.error("backend error: %s", exc, extra={"error_type": type(exc).__name__})
        headers = retry_after(request) if exc.status == 503 else None
        return problem_response(exc.status, str(exc), exc.title, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body"))
            parts.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
        return problem_response(400, "; ".join(parts) or "invalid request", "Bad parameter")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = getattr(exc, "title", None)  # e.g. limits.BodyTooLarge
        return problem_response(exc.status_code, str(exc.detail), title, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(500, "internal error; see the server log with the request id")
