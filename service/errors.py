"""RFC 9457 problem details: every error the gateway returns is ``application/problem+json``."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from service.backends.base import BackendError
from service.catalogue import CatalogueError, InvalidModelName, UnknownModel, UnknownVersion
from service.media import MediaError
from service.resolver import TaskMismatch

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("mmed.errors")

# Domain errors of the model lookup → (status, title).
LOOKUP_PROBLEMS: dict[type[Exception], tuple[int, str]] = {
    InvalidModelName: (400, "Bad parameter"),
    TaskMismatch: (400, "Bad parameter"),
    UnknownModel: (404, "Unknown model"),
    UnknownVersion: (404, "Unknown model version"),
    CatalogueError: (404, "Unknown model"),
}


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


def problem_body(status: int, detail: str, title: str | None = None) -> dict[str, str | int]:
    """The RFC 9457 body (``schemas.Problem``): the one place its fields are spelt."""
    title = title or HTTPStatus(status).phrase
    return {
        "type": f"https://mmed.dev/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }


def problem_response(
    status: int, detail: str, title: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = problem_body(status, detail, title)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def lookup_status(exc: Exception) -> tuple[int, str]:
    """Status and title of a failed model lookup (``CatalogueError``, ``TaskMismatch``)."""
    return next(LOOKUP_PROBLEMS[k] for k in type(exc).__mro__ if k in LOOKUP_PROBLEMS)


def retry_after(request: Request) -> dict[str, str]:
    return {"Retry-After": str(request.app.state.settings.retry_after_s)}


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception a request can raise to problem+json (never a bare 500 for input)."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, exc.title, exc.headers)

    @app.exception_handler(CatalogueError)
    @app.exception_handler(TaskMismatch)
    async def _lookup(_: Request, exc: Exception) -> JSONResponse:
        status, title = lookup_status(exc)
        return problem_response(status, str(exc), title)

    @app.exception_handler(MediaError)
    async def _media(request: Request, exc: MediaError) -> JSONResponse:
        return problem_response(exc.status, _media_detail(request, exc), exc.title)

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
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = getattr(exc, "title", None)  # e.g. limits.BodyTooLarge
        return problem_response(
            exc.status_code, str(exc.detail), title, _http_headers(request, exc)
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(500, "internal error; see the server log with the request id")


def _media_detail(request: Request, exc: MediaError) -> str:
    """The error's text; a too large or long upload to /v1/predict is pointed at jobs."""
    if exc.status == 413 and request.url.path == "/v1/predict":
        return f"{exc}; for long recordings submit a job instead: POST /v1/jobs"
    return str(exc)


def _http_headers(request: Request, exc: StarletteHTTPException) -> dict[str, str] | None:
    """The exception's headers; a 405's ``Allow`` lists every route of the path."""
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(_allowed(request))}
    return headers


def _allowed(request: Request) -> list[str]:
    """The methods of all routes whose path matches the request's (Starlette's 405 lists only
    the first route's, e.g. POST for /v1/jobs, which also has GET)."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)
