"""Calls to the gateway through the generated client (``mmed_client``), with typed errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from mmed_client import Client
from mmed_client.api.models import list_models_v1_models_get
from mmed_client.api.predict import predict_v1_predict_post
from mmed_client.errors import UnexpectedStatus
from mmed_client.models import BodyPredictV1PredictPost, ModelList, PredictResponse, Problem
from mmed_client.types import UNSET, File, Response

DEFAULT_SERVER = "http://127.0.0.1:8000"
T = TypeVar("T")


class ProblemError(Exception):
    """The gateway answered with problem details (RFC 9457); ``problem`` is the typed body."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(f"{problem.status} {problem.title}: {problem.detail}")


class ServerError(Exception):
    """No usable answer: the server is unreachable, timed out, or answered out of contract."""


@dataclass(frozen=True)
class PredictOptions:
    """Query parameters of ``POST /v1/predict``; None = the server's default."""

    task: Literal["micro", "masked"] | None = None
    model: str | None = None
    version: int | None = None
    sample_interval: float | None = None
    detect_faces: bool | None = None
    max_frames: int | None = None


def make_client(server: str, api_key: str | None = None, timeout_s: float = 300.0) -> Client:
    """A client for ``server``; sends ``X-API-Key`` when ``api_key`` is given."""
    headers = {"X-API-Key": api_key} if api_key else {}
    return Client(
        base_url=server.rstrip("/"),
        headers=headers,
        timeout=httpx.Timeout(timeout_s, connect=10.0),
        raise_on_unexpected_status=True,
    )


def _unwrap(response: Response[T | Problem]) -> T:
    parsed = response.parsed
    if isinstance(parsed, Problem):
        raise ProblemError(parsed)
    if parsed is None:
        raise ServerError(f"unexpected answer: HTTP {int(response.status_code)}")
    return parsed


def _call(call: Callable[..., Response[T | Problem]], **kwargs: Any) -> T:
    try:
        return _unwrap(call(**kwargs))
    except UnexpectedStatus as exc:  # a status the OpenAPI document does not list
        raise _undocumented(exc) from exc
    except (ValueError, KeyError, TypeError) as exc:  # not JSON, or not the documented shape
        raise ServerError(f"the answer does not follow the API: {exc!r}") from exc
    except httpx.TimeoutException as exc:
        raise ServerError(f"the server did not answer in time ({exc})") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise ServerError(f"cannot reach the server: {exc}") from exc


def _undocumented(exc: UnexpectedStatus) -> Exception:
    """Problem details when the body is one (e.g. a 429 from a proxy), else a ServerError."""
    try:
        return ProblemError(Problem.from_dict(json.loads(exc.content)))
    except (ValueError, KeyError, TypeError):
        text = exc.content.decode(errors="replace")[:200]
        return ServerError(f"unexpected answer: HTTP {exc.status_code} {text}".rstrip())


def query(options: PredictOptions) -> dict[str, Any]:
    """The options as the generated client's keyword arguments (UNSET where not given)."""
    return {
        name: UNSET if value is None else value
        for name, value in (
            ("task", options.task),
            ("model", options.model),
            ("version", options.version),
            ("sample_interval", options.sample_interval),
            ("detect_faces", options.detect_faces),
            ("max_frames", options.max_frames),
        )
    }


def predict(client: Client, path: Path, options: PredictOptions) -> PredictResponse:
    """Send one image or video file; the typed result, or ProblemError / ServerError."""
    with path.open("rb") as fh:
        body = BodyPredictV1PredictPost(file=File(payload=fh, file_name=path.name))
        return _call(
            predict_v1_predict_post.sync_detailed,
            client=client,
            body=body,
            **query(options),
        )


def list_models(client: Client) -> ModelList:
    """The catalogue (``GET /v1/models``)."""
    return _call(list_models_v1_models_get.sync_detailed, client=client)
