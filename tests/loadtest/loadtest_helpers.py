"""Shared constants of the load-test tests (imported by conftest and the test modules)."""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# `loadtest` is a repository tool, not an installed package: make it importable however pytest
# was started (``python -m pytest`` has the root on sys.path already, the ``pytest`` script not).
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

API_KEY = "loadtest-smoke-key"
