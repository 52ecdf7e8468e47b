"""The model catalogue: what ``model_repository/`` holds, rescanned as it changes.

It knows cards and versions, nothing of HTTP or of rollouts: lookups that fail raise the domain
errors below (``service.errors`` maps them to problem+json; ``service.resolver`` decides which
version answers a request).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from model_artifact import ModelRepository, ModelVersion
from model_artifact.card import is_model_name

log = logging.getLogger("mmed.catalogue")


class CatalogueError(LookupError):
    """A model lookup that cannot be answered; ``str(exc)`` says why, for a client."""


class InvalidModelName(CatalogueError):
    """The name breaks the model-name rule (``model_artifact.card.is_model_name``)."""


class UnknownModel(CatalogueError):
    """No model of that name in the repository."""


class UnknownVersion(CatalogueError):
    """The model exists, but not at that version."""


class Catalogue:
    """Cards of every model version, rescanned at most every ``refresh_s`` seconds.

    New version directories (the TF Serving way to roll out a model) are picked up without a
    restart; the highest version of a model is its default.
    """

    def __init__(self, root: Path, refresh_s: float = 30.0) -> None:
        self.repository = ModelRepository(root)
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._versions: dict[str, dict[int, ModelVersion]] = {}
        self._scanned_at = float("-inf")
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and (self.refresh_s == 0 or now - self._scanned_at < self.refresh_s):
            return
        with self._lock:
            found: dict[str, dict[int, ModelVersion]] = {}
            for name in self.repository.model_names():
                for version in self.repository.versions(name):
                    try:
                        mv = self.repository.load(name, version)
                    except (OSError, ValueError) as exc:
                        log.warning("skipping %s/%s: %s", name, version, exc)
                        continue
                    found.setdefault(name, {})[version] = mv
            self._versions = found
            self._scanned_at = now

    def names(self) -> list[str]:
        self.refresh()
        return sorted(self._versions)

    def versions(self, name: str) -> list[int]:
        self.refresh()
        return sorted(self._versions.get(name, {}))

    def latest(self) -> list[ModelVersion]:
        self.refresh()
        return [v[max(v)] for _, v in sorted(self._versions.items())]

    def newest_first(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, the default (highest) first; ``CatalogueError`` if absent."""
        self.get(name)
        return [v for _, v in sorted(self._versions[name].items(), reverse=True)]

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """The card of ``name`` (highest version unless ``version``); ``CatalogueError`` if
        the name is invalid or absent, or the version is."""
        if not is_model_name(name):
            raise InvalidModelName(f"invalid model name {name!r}")
        self.refresh()
        versions = self._versions.get(name)
        if not versions:
            raise UnknownModel(f"unknown model {name!r}; see GET /v1/models")
        chosen = max(versions) if version is None else version
        if chosen not in versions:
            raise UnknownVersion(
                f"model {name!r} has no version {version}; versions: {sorted(versions)}"
            )
        return versions[chosen]
