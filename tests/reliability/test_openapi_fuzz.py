"""Schemathesis against the gateway's OpenAPI document: no 5xx, every answer documented.

The schema is the committed ``openapi.json`` (tests/service keeps it equal to what the app
serves, and the fixture below checks it again), loaded at import so pytest can parametrize by
operation; requests go in-process to a real app over the tiny model repository, with an API
key configured so the authentication checks have something to check. Bounded for
``make test``: 25 examples per operation, a fixed seed, stateful phase off. ``make bench`` runs
it longer, with fresh random inputs each time (Hypothesis prints the seed of a failure)::

    MMED_FUZZ_EXAMPLES=1000 .venv/bin/python -m pytest -q -p no:cacheprovider \
        tests/reliability/test_openapi_fuzz.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import negative_data_rejection
from starlette.types import ASGIApp, Receive, Scope, Send

from service.app import create_app
from service.settings import Settings
from tools.facevideo import face_image

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("MMED_FUZZ_EXAMPLES", "25"))
DETERMINISTIC = "MMED_FUZZ_EXAMPLES" not in os.environ  # longer runs explore new inputs
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
    modes=["positive", "negative"],
    max_examples=EXAMPLES,
    deterministic=DETERMINISTIC,
    database="none",  # every run stands alone: no example database replayed or written
)
# Any bytes are a schema-valid upload, yet only images and videos are usable media: for valid
# data, 413/415/422 are correct answers too (documented for POST /v1/predict).
schema.config.checks.positive_data_acceptance.expected_statuses += ["413", "415", "422"]


@schema.hook
def filter_case(context, case) -> bool:
    """Drop cases naming a model of the other task: a model's task is the first part of its name
    (design §1), and such a pair is a 400 by design §2 that no schema can express."""
    query = case.query or {}
    model, task = query.get("model"), query.get("task")
    if not (isinstance(model, str) and task in ("micro", "masked")):
        return True
    return model.split("-", 1)[0] not in {"micro", "masked"} - {task}


@pytest.fixture(scope="module")
def gateway(tiny_repository: Path) -> Iterator[None]:
    app = create_app(Settings(model_repository=tiny_repository, api_keys=[KEY]))
    assert app.openapi() == json.loads((REPO / "openapi.json").read_text())
    slot.app = app
    yield
    asgi.shutdown_lifespans()  # schemathesis starts the app's lifespan and keeps it otherwise
    slot.app = None


@pytest.mark.slow  # Schemathesis over every operation
@schema.parametrize()
def test_api_conforms_to_its_openapi_document(case, gateway: None) -> None:
    # The key is sent with every request, so a case Schemathesis made negative by leaving it out
    # reaches the gateway authenticated; whether it must then be rejected depends on its other
    # mutations only, which the check cannot tell (found by the long run: GET
    # /v1/jobs?limit=1&=null, an undeclared query parameter the gateway rightly ignores, was
    # answered 200 and reported as accepted negative data). Such cases skip that one check;
    # every other check runs. Missing and wrong keys: tests/reliability/test_auth_and_names.py.
    excluded = [negative_data_rejection] if _leaves_out_the_key(case) else []
    case.call_and_validate(headers={"X-API-Key": KEY}, excluded_checks=excluded)


def _leaves_out_the_key(case) -> bool:
    data = case.meta.phase.data if case.meta is not None else None
    return any(
        m.parameter_location == ParameterLocation.HEADER and m.parameter == "X-API-Key"
        for m in getattr(data, "mutations", ())
    )


def test_documented_frame_cap_is_this_gateways(make_client) -> None:
    """Found by the long run: max_frames above MMED_MAX_FRAMES is a 400, so the document's
    maximum must be that setting, not 2^31-1."""
    client = make_client(max_frames=7)
    params = client.get("/openapi.json").json()["paths"]["/v1/predict"]["post"]["parameters"]
    (max_frames,) = [p for p in params if p["name"] == "max_frames"]
    assert {"type": "integer", "minimum": 1, "maximum": 7} in max_frames["schema"]["anyOf"]
    image = face_image(160, 120)
    ok = client.post("/v1/predict", files={"file": ("f.jpg", image)}, params={"max_frames": 7})
    over = client.post("/v1/predict", files={"file": ("f.jpg", image)}, params={"max_frames": 8})
    assert (ok.status_code, over.status_code) == (200, 400)
