"""Which model version answers a request: the one rollout policy, whatever the backend.

A request names a task, a model or a version (or none of them). ``Resolver.choose`` turns that
into a catalogued ``ModelVersion``; ``Resolver.run`` runs the work on it and, when the client
asked for no version and the backend refuses the catalogue's default during a rollout, runs it
once more on the version the backend does serve:

- ``VersionNotServed`` (the backend already serves a newer version than the catalogue has
  scanned): rescan the repository now and take the new highest version;
- ``VersionNotLoaded`` (the catalogue lists a version the backend has not loaded yet): take the
  highest catalogued version the backend serves.

An explicit ``version`` is never replaced: its error reaches the client as it is. Every route
that runs a model (``/v1/predict``, jobs) goes through ``Resolver.run``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from model_artifact import ModelVersion
from model_artifact.card import Task
from service.backends.base import BackendError, VersionNotLoaded, VersionNotServed
from service.catalogue import Catalogue, CatalogueError
from service.settings import Settings

log = logging.getLogger("mmed.resolver")
T = TypeVar("T")


class TaskMismatch(ValueError):
    """The model asked for is not a model of the task asked for."""


@dataclass(frozen=True)
class ModelChoice:
    """What a request asked for and the catalogued version picked for it."""

    name: str
    version: int | None  # as asked; None: the default (highest) version
    model: ModelVersion


class Resolver:
    """Picks model versions from the catalogue and applies the rollout policy."""

    def __init__(self, catalogue: Catalogue, settings: Settings) -> None:
        self.catalogue = catalogue
        self.settings = settings

    def choose(
        self, task: Task | None = None, model: str | None = None, version: int | None = None
    ) -> ModelChoice:
        """The version for ``task``/``model``/``version`` as a request gives them (``model``
        defaults to the task's default model, the task to micro). Raises ``CatalogueError``
        or ``TaskMismatch``."""
        name = model or self.settings.default_model(task or "micro")
        chosen = self.catalogue.get(name, version)
        if task is not None and chosen.card.task != task:
            raise TaskMismatch(f"model {chosen.name!r} is a {chosen.card.task} model, not {task}")
        return ModelChoice(name, version, chosen)

    def fallback(self, choice: ModelChoice, error: BackendError) -> ModelVersion | None:
        """The version to answer ``choice`` with after the backend refused ``choice.model``
        with ``error``, or None (the error stands)."""
        if choice.version is not None:
            return None
        served: ModelVersion | None = None
        try:
            if isinstance(error, VersionNotServed):
                self.catalogue.refresh(force=True)
                served = self.catalogue.get(choice.name)
            elif isinstance(error, VersionNotLoaded):
                known = set(self.catalogue.versions(choice.name))
                loaded = [v for v in error.available if v in known]
                served = self.catalogue.get(choice.name, max(loaded)) if loaded else None
        except CatalogueError:
            return None
        if served is None or served.version == choice.model.version:
            return None
        return served

    async def run(self, choice: ModelChoice, work: Callable[[ModelVersion], Awaitable[T]]) -> T:
        """``await work(version)`` on ``choice.model``; once more on the rollout ``fallback``
        version when the backend does not serve it (``work`` must be safe to repeat)."""
        try:
            return await work(choice.model)
        except (VersionNotServed, VersionNotLoaded) as exc:
            served = self.fallback(choice, exc)
            if served is None:
                raise
            log.info(
                "rollout: %s/%s not served (%s); answering with version %s",
                choice.name,
                choice.model.version,
                type(exc).__name__,
                served.version,
            )
            return await work(served)
