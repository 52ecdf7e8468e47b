"""Fixtures for the deployment tests: every overlay rendered once by the real kustomize."""

from __future__ import annotations

import pytest
import yaml
from deploy_helpers import K8S, LOADER_POD, OVERLAYS, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    """Every overlay, rendered once per session: {overlay name: objects}."""
    return {name: render(K8S / "overlays" / name) for name in OVERLAYS}


@pytest.fixture(scope="session")
def loader_pod() -> dict:
    docs = [doc for doc in yaml.safe_load_all(LOADER_POD.read_text()) if doc]
    assert len(docs) == 1
    return docs[0]
