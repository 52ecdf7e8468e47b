"""Fixtures for the TF Serving backend tests: the fake server and repository variants."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_server import FakeTFServing
from fastapi.testclient import TestClient
from tfs_helpers import edit_card

from model_artifact import ModelRepository
from model_artifact.serving_config import BatchingParameters, write_serving_configs
from tools.local_server import free_port


@pytest.fixture
def fake_tfs(tiny_repository: Path) -> Iterator[FakeTFServing]:
    """The test double serving ``tiny_repository`` on a free loopback port."""
    with FakeTFServing(tiny_repository) as server:
        yield server


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    """A loopback port nothing listens on (until a test starts a server there)."""
    return free_port()


@pytest.fixture
def repository_copy(tiny_repository: Path, tmp_path: Path) -> Callable[..., Path]:
    """Factory: a private copy of ``tiny_repository``, optionally with its ``batching.config``
    replaced and a second version of ``micro-cnn`` (same SavedModel)."""

    def make(batching: BatchingParameters | None = None, micro_v2: bool = False) -> Path:
        root = tmp_path / "model_repository"
        shutil.copytree(tiny_repository, root)
        if micro_v2:
            shutil.copytree(root / "micro-cnn" / "1", root / "micro-cnn" / "2")
            edit_card(root / "micro-cnn" / "2", version=2)
        if batching is not None:
            write_serving_configs(ModelRepository(root), batching=batching)
        return root

    return make


@pytest.fixture
def make_gateway(make_client: Callable[..., TestClient]) -> Callable[..., TestClient]:
    """Factory for started gateways (TestClient): the suite-wide ``make_client``."""
    return make_client
