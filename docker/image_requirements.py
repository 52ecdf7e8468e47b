"""Derive the gateway image's pip requirement files from pyproject.toml (the only place pins live).

The image runs inference on CPU only (TF Serving owns the GPU), so the ``tensorflow==X`` pin
becomes ``tensorflow-cpu==X`` — the same version, without the CUDA kernels (a 261 MiB wheel
instead of 545 MiB for 2.21.0 on cp311 x86_64). ``tensorflow-serving-api`` declares a dependency
on the ``tensorflow`` distribution, so it is installed with ``--no-deps`` (its other
requirements, grpcio and protobuf, come from the project pin and from tensorflow-cpu).

Standard library only: it runs in the image's build stage before anything is installed.

Usage: ``python image_requirements.py pyproject.toml OUT_DIR`` writes ``OUT_DIR/requirements.txt``
and ``OUT_DIR/requirements-no-deps.txt``.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PIN_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[A-Za-z0-9,._-]+\])?==(?P<version>[A-Za-z0-9.+!_-]+)$"
)
CPU_SWAP = {"tensorflow": "tensorflow-cpu"}
NO_DEPS = {"tensorflow-serving-api"}


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def image_requirements(pyproject: dict) -> tuple[list[str], list[str]]:
    """(requirements, no-deps requirements) for the image from the project's runtime pins."""
    deps: list[str] = pyproject["project"]["dependencies"]
    regular: list[str] = []
    no_deps: list[str] = []
    seen: set[str] = set()
    for raw in deps:
        spec = raw.replace(" ", "")
        match = PIN_RE.match(spec)
        if match is None:
            raise ValueError(f"not an exact pin (name==version): {raw!r}")
        name = canonical(match["name"])
        seen.add(name)
        extras, version = match["extras"] or "", match["version"]
        if name in NO_DEPS:
            no_deps.append(f"{name}=={version}")
        else:
            regular.append(f"{CPU_SWAP.get(name, name)}{extras}=={version}")
    missing = (set(CPU_SWAP) | NO_DEPS) - seen
    if missing:
        raise ValueError(f"pyproject.toml no longer pins {sorted(missing)}; revisit this script")
    return regular, no_deps


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    pyproject = tomllib.loads(Path(argv[1]).read_text())
    regular, no_deps = image_requirements(pyproject)
    out = Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    (out / "requirements.txt").write_text("\n".join(regular) + "\n")
    (out / "requirements-no-deps.txt").write_text("\n".join(no_deps) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
