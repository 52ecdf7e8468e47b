"""API-key authentication as a FastAPI dependency (``X-API-Key``; open when no key is set)."""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from service.errors import Problem

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def key_matches(presented: str, keys: list[str]) -> bool:
    """Constant-time comparison against every configured key (no early exit)."""
    given = presented.encode()
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key.encode())
    return matched


async def require_api_key(
    request: Request, presented: str | None = Depends(api_key_header)
) -> None:
    keys: list[str] = request.app.state.settings.api_keys
    if not keys:
        return
    if presented is None or not key_matches(presented, keys):
        raise Problem(
            401,
            "missing or wrong API key: send it in the X-API-Key header",
            title="Unauthorized",
            headers={"WWW-Authenticate": 'ApiKey header="X-API-Key"'},
        )
