"""Schemathesis against the gateway's OpenAPI document: no 5xx, every answer documented.

The schema is the committed ``openapi.json`` (tests/service keeps it equal to what the app
serves, and the fixture below checks it again), loaded at import so pytest can parametrize by
operation; requests go in-process to a real app over the tiny model repository, with an API
key configured so the authentication checks have something to check. Bounded for
``make test``: ``MMED_FUZZ_EXAMPLES`` examples per operation (default 25), stateful phase off.
``make bench`` runs the same test longer::

    MMED_FUZZ_EXAMPLES=1000 .venv/bin/python -m pytest -q tests/reliability/test_openapi_fuzz.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis.python import asgi
from starlette.types import ASGIApp, Receive, Scope, Send

from service.app import create_app
from service.settings import Settings

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("MMED_FUZZ_EXAMPLES", "25"))
KEY = "fuzz-key-0123456789"


class AppSlot:
    """An ASGI app forwarding to the gateway the fixture builds (the schema needs one at import)."""

    app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "the gateway fixture is not active"
        await self.app(scope, receive, send)


slot = AppSlot()
schema = schemathesis.openapi.from_path(REPO / "openapi.json")
schema.app = slot
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])  # stateful off
schema.config.generation.update(
    modes=["positive", "negative"], max_examples=EXAMPLES, deterministic=True
)
# Any bytes are a schema-valid upload, yet only images and videos are usable media: for valid
# data, 413/415/422 are correct answers too (documented for POST /v1/predict).
schema.config.checks.positive_data_acceptance.expected_statuses += ["413", "415", "422"]


@pytest.fixture(scope="module")
def gateway(tiny_repository: Path) -> Iterator[None]:
    app = create_app(Settings(model_repository=tiny_repository, api_keys=[KEY]))
    assert app.openapi() == json.loads((REPO / "openapi.json").read_text())
    slot.app = app
    yield
    asgi.shutdown_lifespans()  # schemathesis starts the app's lifespan and keeps it otherwise
    slot.app = None


@schema.parametrize()
def test_api_conforms_to_its_openapi_document(case, gateway: None) -> None:
    case.call_and_validate(headers={"X-API-Key": KEY})
