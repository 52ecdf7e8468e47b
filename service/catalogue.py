"""The model catalogue: what ``model_repository/`` holds, and which model answers a request."""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path

from model_artifact import ModelRepository, ModelVersion
from service.backends.base import BackendError, VersionNotLoaded, VersionNotServed
from service.errors import Problem

log = logging.getLogger("mmed.catalogue")
MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


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
        """Every version of ``name``, the default (highest) first; 404 Problem if absent."""
        self.get(name)
        return [v for _, v in sorted(self._versions[name].items(), reverse=True)]

    def served_default(self, name: str, error: BackendError) -> ModelVersion | None:
        """The version of ``name`` to answer a default-version request with when the backend
        refused the default (``error``) during a rollout, or None.

        ``VersionNotServed``: the backend already serves a newer version than the catalogue
        has scanned: rescan now and take the new highest. ``VersionNotLoaded``: the catalogue
        lists a version the backend has not loaded yet: take the highest one it serves.
        """
        if isinstance(error, VersionNotServed):
            self.refresh(force=True)
            versions = self._versions.get(name)
            return versions[max(versions)] if versions else None
        if isinstance(error, VersionNotLoaded):
            versions = self._versions.get(name, {})
            served = [v for v in error.available if v in versions]
            return versions[max(served)] if served else None
        return None

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """The card of ``name`` (highest version unless ``version``); 404 Problem if absent."""
        if not MODEL_NAME.match(name):
            raise Problem(400, f"invalid model name {name!r}", title="Bad parameter")
        self.refresh()
        versions = self._versions.get(name)
        if not versions:
            raise Problem(404, f"unknown model {name!r}; see GET /v1/models", title="Unknown model")
        chosen = max(versions) if version is None else version
        if chosen not in versions:
            raise Problem(
                404,
                f"model {name!r} has no version {version}; versions: {sorted(versions)}",
                title="Unknown model version",
            )
        return versions[chosen]
