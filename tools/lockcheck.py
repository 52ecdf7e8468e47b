"""Check that requirements.lock agrees with pyproject.toml (``python3.11 -m tools.lockcheck``).

pyproject.toml pins every direct dependency (``[project] dependencies`` and each optional
extra); requirements.lock, generated from it by ``make lock``, pins those and every indirect
one. The lock must hold each pyproject pin at the same version, and only exact pins. Standard
library only: CI runs it before anything is installed, to fail fast on a stale lock.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(?P<version>[^\s;#]+)")


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_pins(pyproject: dict) -> dict[str, str]:
    """Name → version of every pin in ``[project]`` dependencies and optional dependencies."""
    project = pyproject["project"]
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    pins: dict[str, str] = {}
    for spec in specs:
        match = PIN.match(spec.replace(" ", ""))
        if match is None:
            raise ValueError(f"pyproject.toml: not an exact pin (name==version): {spec!r}")
        pins[canonical(match["name"])] = match["version"]
    return pins


def lock_pins(text: str) -> tuple[dict[str, str], list[str]]:
    """(name → version, lines that are neither comments nor exact pins) of a lock file."""
    pins: dict[str, str] = {}
    odd: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        if match is None:
            odd.append(raw)
        else:
            pins[canonical(match["name"])] = match["version"]
    return pins, odd


def lock_problems(pyproject_text: str, lock_text: str) -> list[str]:
    """Why the lock does not match the pyproject (empty: it does)."""
    wanted = project_pins(tomllib.loads(pyproject_text))
    locked, odd = lock_pins(lock_text)
    problems = [f"not an exact pin: {line!r}" for line in odd]
    for name, version in sorted(wanted.items()):
        if name not in locked:
            problems.append(f"{name}=={version} is pinned in pyproject.toml but not locked")
        elif locked[name] != version:
            problems.append(f"{name}: pyproject.toml pins {version}, the lock {locked[name]}")
    return problems


def main() -> int:
    problems = lock_problems(PYPROJECT.read_text(), LOCK.read_text())
    for problem in problems:
        print(f"requirements.lock: {problem}", file=sys.stderr)
    if problems:
        print("regenerate it with `make lock` (see CONTRIBUTING.md)", file=sys.stderr)
        return 1
    print("requirements.lock agrees with pyproject.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
