"""How ``mmed_cli.api`` turns answers outside the OpenAPI document into typed errors
(served by an httpx MockTransport: statuses the real gateway does not send)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from mmed_client import Client

from mmed_cli.api import PredictOptions, ProblemError, ServerError, make_client, predict

PROBLEM = {"type": "about:blank", "title": "Too Many Requests", "status": 429, "detail": "slow"}


def client_answering(response: httpx.Response) -> Client:
    transport = httpx.MockTransport(lambda request: response)
    mock = httpx.Client(base_url="http://gateway.test", transport=transport)
    return make_client("http://gateway.test").set_httpx_client(mock)


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    path = tmp_path / "x.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    return path


def test_undocumented_status_with_problem_body_is_a_problem(upload: Path) -> None:
    client = client_answering(httpx.Response(429, json=PROBLEM))
    with pytest.raises(ProblemError) as caught:
        predict(client, upload, PredictOptions())
    assert caught.value.problem.status == 429 and caught.value.problem.detail == "slow"


def test_undocumented_status_without_problem_body(upload: Path) -> None:
    client = client_answering(httpx.Response(500, text="Internal Server Error"))
    with pytest.raises(ServerError, match="HTTP 500 Internal Server Error"):
        predict(client, upload, PredictOptions())


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>proxy login</html>"),
        httpx.Response(200, json={"media": {}}),
        httpx.Response(404, json={"detail": "Not Found"}),  # a wrong base URL
    ],
)
def test_answers_outside_the_contract(upload: Path, response: httpx.Response) -> None:
    with pytest.raises(ServerError, match="does not follow the API"):
        predict(client_answering(response), upload, PredictOptions())


def test_invalid_server_url(upload: Path) -> None:
    with pytest.raises(ServerError, match="cannot reach"):
        predict(make_client("gateway without scheme"), upload, PredictOptions())
