"""Helpers the TF Serving tests import (a module of its own: ``conftest`` names clash when
several test folders run together)."""

from __future__ import annotations

import json
from pathlib import Path

from model_artifact.repository import CARD_PATH


def edit_card(version_dir: Path, **changes: object) -> None:
    path = version_dir / CARD_PATH
    card = json.loads(path.read_text())
    for key, value in changes.items():
        if isinstance(value, dict):
            card[key].update(value)
        else:
            card[key] = value
    path.write_text(json.dumps(card, indent=2))
