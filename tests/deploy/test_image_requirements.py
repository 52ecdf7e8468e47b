"""docker/image_requirements.py turns the project's pins into the image's pip inputs, and the
image's package set covers every third-party import of the code the image ships."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import importlib.util
import sys
import tomllib

import pytest
from deploy_helpers import REPO
from packaging.requirements import Requirement

spec = importlib.util.spec_from_file_location(
    "image_requirements", REPO / "docker" / "image_requirements.py"
)
image_requirements = importlib.util.module_from_spec(spec)
spec.loader.exec_module(image_requirements)

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SHIPPED_PACKAGES = ("service", "model_artifact")  # what the Dockerfile copies into /app


def pins(requirements: list[str]) -> dict[str, str]:
    return {Requirement(r).name: str(Requirement(r).specifier) for r in requirements}


def test_same_pins_with_tensorflow_cpu_and_serving_api_without_deps():
    regular, no_deps = image_requirements.image_requirements(PYPROJECT)
    project = pins(PYPROJECT["project"]["dependencies"])
    image = pins(regular)
    assert image["tensorflow-cpu"] == project["tensorflow"]
    assert "tensorflow" not in image
    assert pins(no_deps) == {"tensorflow-serving-api": project["tensorflow-serving-api"]}
    others = {k: v for k, v in project.items() if k not in {"tensorflow", "tensorflow-serving-api"}}
    assert {k: v for k, v in image.items() if k != "tensorflow-cpu"} == others
    assert "uvicorn[standard]==" + project["uvicorn"].lstrip("=") in regular


@pytest.mark.parametrize(
    "deps",
    [
        ["tensorflow==2.21.0", "tensorflow-serving-api==2.21.0", "numpy>=2"],
        ["tensorflow-serving-api==2.21.0", "numpy==2.4.6"],
        ["tensorflow==2.21.0", "numpy==2.4.6"],
    ],
    ids=["unpinned", "no-tensorflow", "no-serving-api"],
)
def test_rejects_what_it_cannot_map_faithfully(deps):
    with pytest.raises(ValueError):
        image_requirements.image_requirements({"project": {"dependencies": deps}})


def test_cli_writes_both_files(tmp_path):
    assert image_requirements.main(["x", str(REPO / "pyproject.toml"), str(tmp_path)]) == 0
    regular = (tmp_path / "requirements.txt").read_text().split()
    no_deps = (tmp_path / "requirements-no-deps.txt").read_text().split()
    assert (regular, no_deps) == tuple(map(list, image_requirements.image_requirements(PYPROJECT)))


def closure(requirements: list[str]) -> set[str]:
    """Distribution names the requirements install (from this venv's metadata); the image has
    tensorflow-cpu where this venv has tensorflow: same package, same dependencies."""
    canonical = image_requirements.canonical
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonical(req.name)
        lookup = "tensorflow" if name == "tensorflow-cpu" else name
        if name in seen:
            continue
        seen.add(name)
        if lookup == "tensorflow-serving-api":
            continue  # installed with --no-deps
        for raw in metadata.requires(lookup) or []:
            dep = Requirement(raw)
            env = [{"extra": e} for e in req.extras] or [{"extra": ""}]
            if dep.marker is None or any(dep.marker.evaluate(e) for e in env):
                todo.append(dep)
    if "tensorflow-cpu" in seen:
        seen.add("tensorflow")  # the import name's distribution in this venv
    return seen


def third_party_imports() -> set[str]:
    modules: set[str] = set()
    for package in SHIPPED_PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m not in SHIPPED_PACKAGES}


def test_image_packages_cover_every_import_of_the_shipped_code():
    regular, no_deps = image_requirements.image_requirements(PYPROJECT)
    installed = closure(regular + no_deps)
    providers = metadata.packages_distributions()
    missing = {
        module: providers.get(module, [])
        for module in third_party_imports()
        if not {image_requirements.canonical(d) for d in providers.get(module, [])} & installed
    }
    assert not missing, f"imported by service/ or model_artifact/ but not in the image: {missing}"
