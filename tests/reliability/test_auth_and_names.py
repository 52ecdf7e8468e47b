"""API keys and model names: who gets in, what is compared how, and which names can reach the
file system (none but catalogued ones)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

import service.auth
from service.app import create_app
from service.settings import Settings
from tools.facevideo import face_image

KEYS = ["k-alpha-0123456789abcdef", "k-beta-fedcba9876543210"]


@pytest.fixture(scope="module")
def keyed(tiny_repository: Path) -> Iterator[TestClient]:
    settings = Settings(model_repository=tiny_repository, api_keys=",".join(KEYS))
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def open_client(tiny_repository: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(model_repository=tiny_repository))) as client:
        yield client


def predict(client: TestClient, headers: dict | None = None, **params: str):
    image = face_image(160, 120)
    return client.post(
        "/v1/predict", files={"file": ("f.jpg", image)}, params=params, headers=headers or {}
    )


def assert_401(r) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == 'ApiKey header="X-API-Key"'
    body = r.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized"
    assert not any(key in r.text for key in KEYS)


@pytest.mark.parametrize(
    "presented",
    [
        None,
        "",
        " ",
        "wrong",
        KEYS[0][:-1],  # a prefix
        KEYS[0] + "x",  # a longer key starting with the right one
        KEYS[0].upper(),
        ",".join(KEYS),  # the whole configured list
        KEYS[0] + " ",
        "x" * 8192,
        "\u00e9\u00e8",  # latin-1 bytes on the wire
    ],
    ids=lambda p: "none" if p is None else repr(p)[:20],
)
def test_wrong_or_missing_key_is_401_everywhere(keyed: TestClient, presented: str | None) -> None:
    headers = {} if presented is None else {"X-API-Key": presented.encode("latin-1")}
    assert_401(predict(keyed, headers))
    assert_401(keyed.get("/v1/models", headers=headers))
    assert_401(keyed.get("/v1/models/micro-cnn", headers=headers))


def test_every_configured_key_works(keyed: TestClient) -> None:
    for key in KEYS:
        assert predict(keyed, {"X-API-Key": key}).status_code == 200
        assert keyed.get("/v1/models", headers={"X-API-Key": key}).status_code == 200


def test_key_in_the_query_string_is_not_accepted(keyed: TestClient) -> None:
    assert_401(predict(keyed, api_key=KEYS[0]))
    assert_401(keyed.get("/v1/models", params={"X-API-Key": KEYS[0]}))


def test_probes_metrics_and_schema_stay_open(keyed: TestClient) -> None:
    """Orchestrators and scrapers call these without credentials; they reveal no client data."""
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert keyed.get(path).status_code == 200, path


def test_keys_are_compared_in_constant_time_against_every_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """hmac.compare_digest for each configured key, whether the first one matches or none."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(service.auth.hmac, "compare_digest", spy)
    keys = ["one-key", "two-key", "three-key"]
    for presented, expected in (("one-key", True), ("three-key", True), ("nope", False)):
        calls.clear()
        assert service.auth.key_matches(presented, keys) is expected
        assert [b for _, b in calls] == [k.encode() for k in keys]


HOSTILE_NAMES = [
    "../micro-cnn",
    "..",
    ".",
    "micro-cnn/../masked-cnn",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "/etc/passwd",
    "micro-cnn%00",
    "micro-cnn\x00",
    "micro-cnn\\..\\x",
    "MICRO-CNN",
    "micro_cnn",
    "-micro-cnn",
    "a" * 65,
    "micro-cnn.json",
    "~root",
    "micro cnn",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_model_names_outside_the_catalogue_never_reach_a_model(
    open_client: TestClient, name: str
) -> None:
    # One path segment, dots escaped too: the client must not resolve "." or ".." itself.
    segment = quote(name, safe="").replace(".", "%2E")
    for r in (predict(open_client, model=name), open_client.get(f"/v1/models/{segment}")):
        assert r.status_code in (400, 404), (name, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("version", ["0", "-1", "1/../2", "1e3", "99999999999", "2"])
def test_versions_are_positive_integers_in_the_catalogue(
    open_client: TestClient, version: str
) -> None:
    r = predict(open_client, model="micro-cnn", version=version)
    assert r.status_code in (400, 404), (version, r.text)
