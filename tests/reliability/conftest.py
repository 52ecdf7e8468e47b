"""Fixtures for the reliability tests: the hostile corpus and a real gateway process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from live_server import API_KEY, MAX_UPLOAD_MB, LiveServer, start_server

from service.app import create_app
from service.settings import Settings


@pytest.fixture(scope="session")
def live(tiny_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One gateway process shared by the corpus, upload, limit and logging tests: API key set,
    uploads up to MAX_UPLOAD_MB, DEBUG logs (so a leak anywhere in them is caught)."""
    server = start_server(
        tiny_repository,
        tmp_path_factory.mktemp("live"),
        api_keys=API_KEY,
        max_upload_mb=MAX_UPLOAD_MB,
        log_level="DEBUG",
    )
    yield server
    server.stop()


@pytest.fixture
def make_client(tiny_repository: Path) -> Iterator[Callable[..., TestClient]]:
    """Factory for started in-process gateways; settings overrides as keyword arguments."""
    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        app = create_app(Settings(model_repository=tiny_repository, **overrides))
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
