"""requirements.lock (``make lock``) agrees with pyproject.toml's pins and pins every indirect
dependency too."""

from __future__ import annotations

import tomllib
from importlib.metadata import PackageNotFoundError, distribution

import pytest
from packaging.requirements import Requirement

from tools.lockcheck import LOCK, PYPROJECT, canonical, lock_pins, lock_problems, project_pins

PYPROJECT_TEXT = """
[project]
dependencies = ["numpy==2.4.6", "uvicorn[standard]==0.54.0"]
[project.optional-dependencies]
dev = ["pytest==9.2.0"]
"""


def test_the_committed_lock_agrees_with_pyproject() -> None:
    assert lock_problems(PYPROJECT.read_text(), LOCK.read_text()) == []


def test_a_missing_or_disagreeing_pin_is_caught() -> None:
    lock = "numpy==2.4.5\n    # via pandas\nuvicorn==0.54.0\n"
    assert lock_problems(PYPROJECT_TEXT, lock) == [
        "numpy: pyproject.toml pins 2.4.6, the lock 2.4.5",
        "pytest==9.2.0 is pinned in pyproject.toml but not locked",
    ]
    assert lock_problems(PYPROJECT_TEXT, lock + "numpy==2.4.6\npytest==9.2.0\n") == []


def test_only_exact_pins_are_allowed() -> None:
    lock = "numpy==2.4.6\nuvicorn==0.54.0\npytest==9.2.0\nhttpx>=0.28\n-e .\n"
    assert lock_problems(PYPROJECT_TEXT, lock) == [
        "not an exact pin: 'httpx>=0.28'",
        "not an exact pin: '-e .'",
    ]
    with pytest.raises(ValueError, match="not an exact pin"):
        project_pins(tomllib.loads('[project]\ndependencies = ["numpy>=2"]\n'))


def test_every_requirement_of_a_locked_package_is_locked() -> None:
    """Walk the installed metadata of each locked package: what it needs is locked as well."""
    locked, _ = lock_pins(LOCK.read_text())
    missing = []
    for name in locked:
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:  # locked for another platform or not installed here
            continue
        for spec in requires:
            req = Requirement(spec)
            needed = req.marker is None or req.marker.evaluate({"extra": ""})
            if needed and canonical(req.name) not in locked:
                missing.append(f"{name} needs {req}")
    assert missing == []
