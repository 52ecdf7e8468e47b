"""Fixtures for the reliability tests: the hostile corpus and a real gateway process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import API_KEY, MAX_UPLOAD_MB, LiveServer, start_server


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
