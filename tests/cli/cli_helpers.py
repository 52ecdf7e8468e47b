"""Constants and types shared by the CLI tests (the fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

API_KEY = "cli-test-key"
VIDEO_SECONDS, VIDEO_FPS, VIDEO_SIZE = 3.0, 15, (320, 240)


@dataclass(frozen=True)
class Server:
    """A running gateway: base URL, the API key it accepts, its log file."""

    url: str
    api_key: str
    log: Path
