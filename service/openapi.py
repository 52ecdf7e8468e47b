"""The public OpenAPI document: FastAPI's, corrected to say what the gateway really answers.

FastAPI documents a 422 ``HTTPValidationError`` for every route with parameters; this gateway
answers bad parameters with 400 problem+json instead (422 means undecodable media), so those
entries are replaced. ``max_frames`` gets this gateway's caps (MMED_MAX_FRAMES for predictions,
MMED_JOBS_MAX_FRAMES for jobs) as its maximum.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.schemas import Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    components["Problem"] = Problem.model_json_schema()
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            validation = responses.get("422", {})
            if "HTTPValidationError" in str(validation):
                del responses["422"]
            if "parameters" in operation or "requestBody" in operation:
                responses.setdefault(
                    "400",
                    {
                        "description": "Bad parameter",
                        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                    },
                )
    settings = app.state.settings
    _document_frame_cap(schema, "/v1/predict", settings.max_frames)
    _document_frame_cap(schema, "/v1/jobs", settings.jobs_max_frames)
    return schema


def _document_frame_cap(schema: dict[str, Any], path: str, cap: int) -> None:
    """``max_frames`` above this gateway's cap for ``path`` (MMED_MAX_FRAMES,
    MMED_JOBS_MAX_FRAMES) is a 400: say so in the schema."""
    operation = schema.get("paths", {}).get(path, {}).get("post", {})
    for param in operation.get("parameters", []):
        if param["name"] == "max_frames":
            for alternative in param["schema"].get("anyOf", [param["schema"]]):
                if alternative.get("type") == "integer":
                    alternative["maximum"] = cap


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
