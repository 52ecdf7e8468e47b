"""OpenAPI documentation of the problem+json error answers each route can give."""

from __future__ import annotations

from typing import Any

from service.errors import PROBLEM_JSON
from service.schemas import Problem


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "model": Problem,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("Bad parameter"),
    401: _problem("Missing or wrong API key (when keys are configured)"),
}
MODEL_ERRORS: dict[int | str, dict[str, Any]] = {
    **AUTH_ERRORS,
    404: _problem("Unknown model or version"),
}
PREDICT_ERRORS: dict[int | str, dict[str, Any]] = {
    **MODEL_ERRORS,
    413: _problem("Upload too large, or video too long / too many pixels"),
    415: _problem("Not an image or a video"),
    422: _problem("Recognised but undecodable media"),
    502: _problem("The backend rejected the request"),
    503: _problem("Saturated or backend unavailable (see Retry-After)"),
    504: _problem("Backend or processing timeout"),
}
READY_ERRORS: dict[int | str, dict[str, Any]] = {503: _problem("Not ready")}
