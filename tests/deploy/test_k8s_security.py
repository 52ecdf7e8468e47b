"""Every container of every pod the project deploys runs hardened: non-root, read-only root
filesystem, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp — the
namespace enforces the "restricted" Pod Security Standard, so a pod without them would not
even be admitted."""

from __future__ import annotations

import copy

import pytest
from deploy_helpers import OVERLAYS, all_containers, final_stage_user, find, pod_spec, workloads


def security_problems(workload: dict) -> list[str]:
    """Every missing or unsafe security setting of ``workload``'s pod and containers."""
    spec = pod_spec(workload)
    name = f"{workload['kind']}/{workload['metadata']['name']}"
    problems = []
    if spec.get("automountServiceAccountToken") is not False:
        problems.append(f"{name}: service account token mounted")
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            problems.append(f"{name}: {flag}")
    if any("hostPath" in v for v in spec.get("volumes", [])):
        problems.append(f"{name}: hostPath volume")
    containers = all_containers(spec)
    if not containers:
        problems.append(f"{name}: no containers")
    for c in containers:
        problems += container_problems(f"{name}/{c['name']}", c, spec.get("securityContext", {}))
    return problems


def container_problems(where: str, container: dict, pod_ctx: dict) -> list[str]:
    """The unsafe settings of one container (its securityContext over the pod's)."""
    ctx = container.get("securityContext", {})

    def effective(key: str):
        return ctx.get(key, pod_ctx.get(key))

    problems = []
    if effective("runAsNonRoot") is not True:
        problems.append(f"{where}: runAsNonRoot is not true")
    if effective("runAsUser") == 0:
        problems.append(f"{where}: runAsUser 0")
    if ctx.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{where}: readOnlyRootFilesystem is not true")
    if ctx.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: allowPrivilegeEscalation is not false")
    if ctx.get("privileged"):
        problems.append(f"{where}: privileged")
    capabilities = ctx.get("capabilities", {})
    if "ALL" not in capabilities.get("drop", []):
        problems.append(f"{where}: capabilities not dropped (drop: [ALL])")
    if capabilities.get("add"):
        problems.append(f"{where}: capabilities added {capabilities['add']}")
    if (effective("seccompProfile") or {}).get("type") != "RuntimeDefault":
        problems.append(f"{where}: seccompProfile is not RuntimeDefault")
    return problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_hardened(rendered, overlay):
    pods = list(workloads(rendered[overlay]))
    assert {p["metadata"]["name"] for p in pods} == {"gateway", "tfserving"}
    problems = [p for workload in pods for p in security_problems(workload)]
    assert not problems, "\n".join(problems)


def test_loader_pod_is_hardened(loader_pod):
    assert not security_problems(loader_pod)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("securityContext", "readOnlyRootFilesystem"), False, "readOnlyRootFilesystem"),
        (("securityContext", "allowPrivilegeEscalation"), True, "allowPrivilegeEscalation"),
        (("securityContext", "capabilities"), {"drop": ["NET_RAW"]}, "capabilities not dropped"),
        (("securityContext", "runAsNonRoot"), False, "runAsNonRoot"),
    ],
)
def test_the_check_catches_each_missing_setting(rendered, path, value, expected):
    broken = copy.deepcopy(find(rendered["prod-gpu"], "Deployment", "gateway"))
    target = pod_spec(broken)["containers"][0]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert any(expected in p for p in security_problems(broken))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_namespace_enforces_restricted_pod_security(rendered, overlay):
    namespace = find(rendered[overlay], "Namespace", "mmed-serve")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_as_the_image_user(rendered, overlay):
    """The gateway image's USER (Dockerfile) is the UID the pods run as."""
    for name in ("gateway", "tfserving"):
        spec = pod_spec(find(rendered[overlay], "Deployment", name))
        assert spec["securityContext"]["runAsUser"] == final_stage_user()
