"""The review page (``GET /ui``): one HTML page and its static assets, served by the gateway.

No build step and no CDN: the files in ``static/`` are sent as they are. Every answer of these
routes carries a strict Content-Security-Policy (own scripts and styles only, no inline code,
media from the user's own file as ``blob:``) and the usual hardening headers; the API routes and
``/docs`` (which loads Swagger UI from a CDN) are left as they were.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse

from service.errors import Problem

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # Assets change with the gateway's version; revalidate instead of caching stale code.
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The assets, fixed when the module loads: a request names one of these or gets a 404.
ASSETS = {p.name: p for p in STATIC.iterdir() if p.suffix in MEDIA_TYPES and p.name != "index.html"}

router = APIRouter(include_in_schema=False)


def _file(path: Path) -> FileResponse:
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=SECURITY_HEADERS)


@router.get("/")
async def root() -> RedirectResponse:
    """The gateway's root opens the review page."""
    return RedirectResponse("/ui", status_code=307, headers=SECURITY_HEADERS)


@router.get("/ui")
async def page() -> FileResponse:
    """The review page."""
    return _file(STATIC / "index.html")


@router.get("/ui/static/{name}")
async def asset(name: Annotated[str, PathParam(max_length=64)]) -> FileResponse:
    """One of the page's scripts or stylesheets."""
    if name not in ASSETS:
        raise Problem(404, f"no asset {name!r}", headers=SECURITY_HEADERS)
    return _file(ASSETS[name])
