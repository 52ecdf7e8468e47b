"""The ``model_repository/`` layout.

``<name>/<version>/{saved_model.pb, variables/, assets.extra/mmed.json}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from model_artifact.card import ModelCard, is_model_name

CARD_PATH = Path("assets.extra") / "mmed.json"
WARMUP_PATH = Path("assets.extra") / "tf_serving_warmup_requests"


@dataclass(frozen=True)
class ModelVersion:
    """One exported version of one model."""

    card: ModelCard
    path: Path

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def version(self) -> int:
        return self.card.version


class ModelRepository:
    """Read-side view of a model repository directory (no TensorFlow needed)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def model_names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and is_model_name(p.name))

    def versions(self, name: str) -> list[int]:
        """Integer version directories of ``name`` that hold a SavedModel, ascending."""
        base = self.root / name
        if not is_model_name(name) or not base.is_dir():
            return []
        return sorted(
            int(p.name)
            for p in base.iterdir()
            if p.is_dir() and p.name.isdigit() and (p / "saved_model.pb").is_file()
        )

    def next_version(self, name: str) -> int:
        """The version an export of ``name`` must use (never overwrites an existing one)."""
        base = self.root / name
        taken = [int(p.name) for p in base.iterdir() if p.name.isdigit()] if base.is_dir() else []
        return max(taken, default=0) + 1

    def load(self, name: str, version: int | None = None) -> ModelVersion:
        """The card of ``name`` at ``version`` (default: the highest). KeyError if absent."""
        versions = self.versions(name)
        if not versions:
            raise KeyError(name)
        chosen = versions[-1] if version is None else version
        if chosen not in versions:
            raise KeyError(f"{name}/{version}")
        path = self.root / name / str(chosen)
        card = ModelCard.model_validate(json.loads((path / CARD_PATH).read_text()))
        if card.name != name or card.version != chosen:
            raise ValueError(f"{path / CARD_PATH} describes {card.name}/{card.version}")
        return ModelVersion(card=card, path=path)

    def latest(self) -> list[ModelVersion]:
        """The highest version of every model, by name."""
        return [self.load(name) for name in self.model_names() if self.versions(name)]

    def all_versions(self) -> list[ModelVersion]:
        return [self.load(n, v) for n in self.model_names() for v in self.versions(n)]
