"""Shared fixtures; ``tiny_repository`` is a real model repository built in seconds."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Fixtures that start a gateway process (uvicorn in a subprocess): a test using one pays that
# process's start (TensorFlow's import and the model loads, 10-15 s on a quiet machine), so it is
# slow: `make test` runs it, `make test-fast` (the edit loop) leaves it out.
GATEWAY_PROCESS_FIXTURES = frozenset({"server", "live"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a gateway-process fixture ``slow``."""
    for item in items:
        if GATEWAY_PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def write_image_folder(
    root: Path,
    classes: list[str],
    subjects: int = 6,
    per_subject: int = 1,
    size: tuple[int, int] = (60, 52),
    seed: int = 0,
) -> Path:
    """``root/<class>/S<subject>_<seq>_<frame>.png`` random grey images with a per-class tint."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for c, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for s in range(subjects):
            for i in range(per_subject):
                base = 40 + 160 * c / max(1, len(classes) - 1)
                pixels = np.clip(rng.normal(base, 30, size), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"S{s + 10:03d}_{c + 1:03d}_{i:08d}.png")
    return root


@pytest.fixture(scope="session")
def make_image_folder(tmp_path_factory) -> Callable[..., Path]:
    """Factory: ``make_image_folder(classes, **kw)`` → a fresh class-per-folder dataset."""

    def make(classes: list[str], **kwargs) -> Path:
        return write_image_folder(tmp_path_factory.mktemp("images"), classes, **kwargs)

    return make


@pytest.fixture(scope="session")
def tiny_repository(tmp_path_factory, make_image_folder) -> Path:
    """A model repository with ``micro-cnn`` (the paper's 5 classes, full face) and
    ``masked-cnn`` (2 classes, upper face), i.e. v1-style cards without a rest class: the
    paper's CNN at 48x48, one epoch on random images, exported by
    ``training.export`` (SavedModel, mmed.json, warm-up records, TF Serving configs)."""
    from model_artifact import PAPER_CLASSES
    from training.export import export_model
    from training.pipeline import RunConfig, run
    from training.train import FitOptions

    root = tmp_path_factory.mktemp("model_repository")
    fit = FitOptions(epochs=1, batch_size=16, augment=False, early_stopping=0, verbose=0)
    for task, region in (("micro", "full"), ("masked", "upper")):
        data = make_image_folder(list(PAPER_CLASSES[task]), subjects=5, per_subject=2)
        config = RunConfig(
            data=str(data),
            task=task,
            arch="cnn",
            face_region=region,
            seed=0,
            fit=fit,
            dataset_name="synthetic",
        )
        result = run(config)
        export_model(result.model, root, result.card())
    return root


@pytest.fixture
def make_client(tiny_repository: Path) -> Iterator[Callable[..., object]]:
    """Factory for started in-process gateways (TestClient); settings overrides as keyword
    arguments, ``model_repository`` defaulting to ``tiny_repository``. Stopped afterwards."""
    from fastapi.testclient import TestClient

    from service.app import create_app
    from service.settings import Settings

    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        overrides.setdefault("model_repository", tiny_repository)
        client = TestClient(create_app(Settings(**overrides)), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="session", autouse=True)
def private_jobs_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every gateway a test starts (in-process or a subprocess, which inherits the
    environment) keeps its jobs in this session's temporary directory, not in ./var/jobs;
    tests that need their own directory set ``jobs_dir`` / ``MMED_JOBS_DIR`` themselves."""
    path = tmp_path_factory.mktemp("jobs")
    patch = pytest.MonkeyPatch()
    patch.setenv("MMED_JOBS_DIR", str(path))
    yield path
    patch.undo()
