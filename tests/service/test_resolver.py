"""The resolver (which version answers) and the embedded backend's settings and error counts,
without HTTP: domain errors in, versions out."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from model_artifact import ModelVersion
from model_artifact.repository import CARD_PATH
from service.backends.base import (
    BackendError,
    BackendUnavailable,
    ModelNotServed,
    VersionNotLoaded,
    VersionNotServed,
)
from service.backends.embedded import EmbeddedBackend
from service.catalogue import Catalogue, InvalidModelName, UnknownModel, UnknownVersion
from service.metrics import Metrics
from service.resolver import Resolver, TaskMismatch
from service.settings import Settings


def add_version(root: Path, name: str, version: int) -> None:
    target = root / name / str(version)
    shutil.copytree(root / name / "1", target)
    card = json.loads((target / CARD_PATH).read_text())
    card["version"] = version
    (target / CARD_PATH).write_text(json.dumps(card))


@pytest.fixture
def repo(tiny_repository: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(tiny_repository, root)
    return root


def make_resolver(root: Path, refresh_s: float = 30.0) -> Resolver:
    settings = Settings(model_repository=root, catalogue_refresh_s=refresh_s)
    return Resolver(Catalogue(root, refresh_s), settings)


def test_choose_follows_task_model_and_version(repo: Path) -> None:
    add_version(repo, "micro-cnn", 2)
    resolver = make_resolver(repo)
    assert resolver.choose().model.name == "micro-cnn"
    assert resolver.choose().model.version == 2
    assert resolver.choose(task="masked").model.name == "masked-cnn"
    assert resolver.choose(model="micro-cnn", version=1).model.version == 1
    with pytest.raises(TaskMismatch, match="is a micro model, not masked"):
        resolver.choose(task="masked", model="micro-cnn")
    with pytest.raises(UnknownModel):
        resolver.choose(model="micro-nope")
    with pytest.raises(UnknownVersion, match=r"versions: \[1, 2\]"):
        resolver.choose(model="micro-cnn", version=3)
    with pytest.raises(InvalidModelName):
        resolver.choose(model="../micro-cnn")


def test_a_version_still_loading_falls_back_to_the_one_served(repo: Path) -> None:
    add_version(repo, "micro-cnn", 2)
    resolver = make_resolver(repo)
    default = resolver.choose()
    loading = VersionNotLoaded("v2 loading", available=[1])
    assert default.model.version == 2
    fallback = resolver.fallback(default, loading)
    assert fallback is not None and fallback.version == 1
    # An explicit version is never replaced, nor is any other backend error.
    assert resolver.fallback(resolver.choose(version=2), loading) is None
    assert resolver.fallback(default, BackendUnavailable("down")) is None
    assert resolver.fallback(default, VersionNotLoaded("none", available=[])) is None


def test_a_version_not_scanned_yet_is_found_by_a_rescan(repo: Path) -> None:
    resolver = make_resolver(repo, refresh_s=3600)
    default = resolver.choose()
    add_version(repo, "micro-cnn", 2)  # the catalogue will not see it for an hour
    assert resolver.choose().model.version == 1
    fallback = resolver.fallback(default, VersionNotServed("v1 unloaded"))
    assert fallback is not None and fallback.version == 2


def test_run_repeats_the_work_once_on_the_fallback(repo: Path) -> None:
    add_version(repo, "micro-cnn", 2)
    resolver = make_resolver(repo)
    tried: list[int] = []

    async def work(model: ModelVersion) -> int:
        tried.append(model.version)
        if model.version == 2:
            raise VersionNotLoaded("v2 loading", available=[1])
        return model.version

    assert asyncio.run(resolver.run(resolver.choose(), work)) == 1
    assert tried == [2, 1]
    tried.clear()
    with pytest.raises(VersionNotLoaded):
        asyncio.run(resolver.run(resolver.choose(version=2), work))
    assert tried == [2]


def backend_errors(metrics: Metrics, code: str) -> float:
    value = metrics.registry.get_sample_value(
        "mmed_backend_errors_total", {"backend": "embedded", "code": code}
    )
    return value or 0.0


def test_embedded_backend_takes_its_settings_and_counts_its_errors(repo: Path) -> None:
    metrics = Metrics()
    backend = EmbeddedBackend(Settings(embedded_max_batch=0), metrics)
    assert backend.max_batch == 0
    assert EmbeddedBackend(Settings(embedded_max_batch=7)).max_batch == 7
    model = Catalogue(repo).get("micro-cnn")
    spec = model.card.input
    ok = asyncio.run(backend.predict(model, np.zeros((2, spec.height, spec.width, 1), np.uint8)))
    assert ok.shape == (2, len(model.card.classes))
    wrong = np.zeros((1, spec.height, spec.width), np.uint8)  # no channel axis
    with pytest.raises(BackendError):
        asyncio.run(backend.predict(model, wrong))
    assert backend_errors(metrics, "INVALID_ARGUMENT") == 1
    shutil.rmtree(repo / "masked-cnn" / "1" / "variables")
    with pytest.raises(ModelNotServed):
        asyncio.run(backend.predict(Catalogue(repo).get("masked-cnn"), wrong))
    assert backend_errors(metrics, "LOAD_FAILED") == 1
