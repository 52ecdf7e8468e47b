"""Build the peer's separate venv (PyPI ``fer``) from the pins in pyproject.toml.

``[tool.mmed.bench.peer]`` lists ``no_deps`` (installed with ``--no-deps``: fer would otherwise
pull in MTCNN's torch stack), ``deps`` and ``project`` (names installed at the project's own
pins, so fer runs on the same TensorFlow and OpenCV as the gateway). Re-running is a no-op
while the pins are unchanged (a stamp file holds their hash).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_VENV = ROOT / "bench" / ".venv-fer"


def peer_requirements(pyproject: Path = ROOT / "pyproject.toml") -> tuple[list[str], list[str]]:
    """(--no-deps requirements, ordinary requirements) for the peer's venv."""
    data = tomllib.loads(pyproject.read_text())
    table = data["tool"]["mmed"]["bench"]["peer"]
    pins = {_name(req): req for req in data["project"]["dependencies"]}
    missing = [name for name in table["project"] if name not in pins]
    if missing:
        raise SystemExit(f"[tool.mmed.bench.peer].project names unpinned packages: {missing}")
    return list(table["no_deps"]), [*table["deps"], *(pins[n] for n in table["project"])]


def _name(requirement: str) -> str:
    for sep in ("==", ">=", "<=", "~=", "[", ";", " "):
        requirement = requirement.split(sep, 1)[0]
    return requirement.strip().lower()


def peer_python(path: Path = PEER_VENV) -> Path:
    return path / "bin" / "python"


def ensure_peer_venv(path: Path = PEER_VENV) -> Path:
    """Create or update the peer venv; returns its python."""
    no_deps, deps = peer_requirements()
    digest = hashlib.sha256(json.dumps([no_deps, deps]).encode()).hexdigest()
    stamp = path / ".installed"
    python = peer_python(path)
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    if not python.exists():
        venv.create(path, with_pip=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, *deps], check=True)
    subprocess.run([*pip, "--no-deps", *no_deps], check=True)
    stamp.write_text(digest)
    return python


if __name__ == "__main__":
    print(ensure_peer_venv(Path(sys.argv[1]) if len(sys.argv) > 1 else PEER_VENV))
