"""Load-test fixtures: a real gateway process (uvicorn, embedded backend, tiny repository, an API
key) on a free loopback port, and real answers from it to check the checks against."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from loadtest_helpers import API_KEY

from loadtest.gateway import GatewayProcess
from loadtest.media import Media, make_media


@pytest.fixture(scope="session")
def gateway(tiny_repository: Path, tmp_path_factory) -> Iterator[GatewayProcess]:
    """The gateway as ``make loadtest`` starts it, with ``MMED_API_KEYS`` set."""
    log = tmp_path_factory.mktemp("loadtest-gateway") / "gateway.log"
    process = GatewayProcess(tiny_repository, log, {"MMED_API_KEYS": API_KEY})
    process.start(timeout_s=300)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def media() -> dict[str, Media]:
    return make_media()


@pytest.fixture(scope="session")
def real_answers(gateway: GatewayProcess, media: dict[str, Media]) -> dict[str, Any]:
    """One real 200 body per request kind (predict micro/masked/video, catalogue, model)."""
    answers: dict[str, Any] = {}
    with httpx.Client(base_url=gateway.url, headers={"X-API-Key": API_KEY}, timeout=120) as c:
        for key, task in (("micro", "micro"), ("masked", "masked"), ("video", "micro")):
            m = media[key]
            response = c.post(
                "/v1/predict",
                params={"task": task},
                files={"file": (m.filename, m.data, m.content_type)},
            )
            assert response.status_code == 200, response.text
            answers[key] = response.json()
        answers["models"] = c.get("/v1/models").json()
        answers["model"] = c.get("/v1/models/micro-cnn").json()
    return answers


@pytest.fixture
def mutated(real_answers: dict[str, Any]) -> Callable[[str], Any]:
    """A deep copy of a real answer, to break one thing in."""
    return lambda key: copy.deepcopy(real_answers[key])
