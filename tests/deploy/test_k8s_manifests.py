"""Every overlay renders with kustomize and every object validates offline against the
Kubernetes OpenAPI schemas (kubernetes-validate, strict: unknown fields are errors); the
references between objects resolve."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
from deploy_helpers import (
    NAMESPACE,
    OVERLAYS,
    all_containers,
    find,
    pod_labels,
    pod_spec,
    selects,
    workloads,
)

# Oldest supported (the preStop `sleep` action needs 1.30) and newest schemas shipped.
K8S_VERSIONS = ("1.30.0", "1.37.0")
PROMETHEUS_OPERATOR = "monitoring.coreos.com/v1"
EXPECTED_KINDS = {
    "Namespace",
    "ConfigMap",
    "PersistentVolumeClaim",
    "Deployment",
    "Service",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "ServiceMonitor",
    "PodMonitor",
}


def validate(obj: dict, version: str) -> None:
    kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_objects_validate_against_kubernetes_schemas(rendered, overlay, version):
    objects = rendered[overlay]
    assert {o["kind"] for o in objects} == EXPECTED_KINDS
    for obj in objects:
        if obj["apiVersion"] == PROMETHEUS_OPERATOR:
            continue  # custom resources: no Kubernetes schema; checked in test_prometheus_*
        validate(obj, version)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_loader_pod_validates(loader_pod, version):
    validate(loader_pod, version)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: pod_spec(d)["containers"][0].update(readOnlyRootFs=True),  # misspelt field
        lambda d: d["spec"].update(replicas="two"),  # wrong type
        lambda d: pod_spec(d)["containers"][0].pop("name"),  # required field
    ],
    ids=["unknown-field", "wrong-type", "missing-required"],
)
def test_schema_validation_rejects_broken_objects(rendered, mutate):
    """The validation above is not vacuous: broken copies of a real Deployment fail it."""
    broken = copy.deepcopy(find(rendered["prod-gpu"], "Deployment", "gateway"))
    mutate(broken)
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(broken, K8S_VERSIONS[-1])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_namespaced_object_is_in_the_namespace(rendered, overlay):
    for obj in rendered[overlay]:
        if obj["kind"] == "Namespace":
            assert obj["metadata"]["name"] == NAMESPACE
        else:
            assert obj["metadata"].get("namespace") == NAMESPACE, obj["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pod_references_resolve(rendered, overlay):
    """ConfigMaps (hash-suffixed by kustomize), PVCs and named probe ports all exist."""
    objects = rendered[overlay]
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for workload in workloads(objects):
        spec = pod_spec(workload)
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in names
            if "persistentVolumeClaim" in volume:
                assert (
                    "PersistentVolumeClaim",
                    volume["persistentVolumeClaim"]["claimName"],
                ) in names
        for c in all_containers(spec):
            for source in c.get("envFrom", []):
                assert ("ConfigMap", source["configMapRef"]["name"]) in names
            mounts = {m["name"] for m in c.get("volumeMounts", [])}
            assert mounts <= {v["name"] for v in spec.get("volumes", [])}
            port_names = {p["name"] for p in c.get("ports", [])}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                port = c.get(probe, {}).get("httpGet", {}).get("port")
                if isinstance(port, str):
                    assert port in port_names, f"{c['name']} {probe} port {port}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_select_their_pods_and_ports(rendered, overlay):
    objects = rendered[overlay]
    for name in ("gateway", "tfserving"):
        service = find(objects, "Service", name)
        deployment = find(objects, "Deployment", name)
        assert selects({"matchLabels": service["spec"]["selector"]}, pod_labels(deployment))
        ports = {
            p["name"]: p["containerPort"]
            for c in pod_spec(deployment)["containers"]
            for p in c["ports"]
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports
            assert port["port"] == ports[port["targetPort"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_hpa_and_pdbs_cover_the_deployments(rendered, overlay):
    objects = rendered[overlay]
    gateway = find(objects, "Deployment", "gateway")
    hpa = find(objects, "HorizontalPodAutoscaler", "gateway")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "gateway",
    }
    assert (
        2 <= hpa["spec"]["minReplicas"] <= gateway["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]
    )
    for name in ("gateway", "tfserving"):
        pdb = find(objects, "PodDisruptionBudget", name)
        assert selects(pdb["spec"]["selector"], pod_labels(find(objects, "Deployment", name)))
        assert pdb["spec"].get("maxUnavailable") == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_servicemonitor_scrapes_gateway_metrics(rendered, overlay):
    objects = rendered[overlay]
    monitor = find(objects, "ServiceMonitor", "gateway")
    assert monitor["apiVersion"] == PROMETHEUS_OPERATOR
    service = find(objects, "Service", "gateway")
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_podmonitor_scrapes_tfserving_monitoring_endpoint(rendered, overlay):
    from model_artifact.serving_config import PROMETHEUS_PATH

    objects = rendered[overlay]
    monitor = find(objects, "PodMonitor", "tfserving")
    assert monitor["apiVersion"] == PROMETHEUS_OPERATOR
    deployment = find(objects, "Deployment", "tfserving")
    assert selects(monitor["spec"]["selector"], pod_labels(deployment))
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    ports = {p["name"]: p["containerPort"] for p in pod_spec(deployment)["containers"][0]["ports"]}
    assert endpoint["port"] == "rest"
    assert endpoint["path"] == PROMETHEUS_PATH
    # TF Serving serves the metrics on its REST port: that port must be the scraped one.
    args = pod_spec(deployment)["containers"][0]["args"]
    assert f"--rest_api_port={ports['rest']}" in args
    monitoring = find(objects, "ConfigMap", "tfserving-config")["data"]["monitoring.config"]
    assert "enable: true" in monitoring
    assert f'path: "{PROMETHEUS_PATH}"' in monitoring


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_only_the_gateway_reach_tfserving(rendered, overlay):
    objects = rendered[overlay]
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    deny = find(objects, "NetworkPolicy", "default-deny-ingress")
    assert deny["spec"]["podSelector"] == {} and "ingress" not in deny["spec"]
    assert deny["spec"]["policyTypes"] == ["Ingress"]

    tfserving = find(objects, "Deployment", "tfserving")
    gateway_labels = pod_labels(find(objects, "Deployment", "gateway"))
    ports = {p["name"]: p["containerPort"] for p in pod_spec(tfserving)["containers"][0]["ports"]}
    applying = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        or selects(p["spec"]["podSelector"], pod_labels(tfserving))
    ]
    for policy in applying:
        for rule in policy["spec"].get("ingress", []):
            assert rule.get("from"), f"{policy['metadata']['name']}: a rule open to every source"
            rule_ports = {p["port"] for p in rule.get("ports", [])}
            assert rule_ports, f"{policy['metadata']['name']}: a rule open on every port"
            if ports["grpc"] in rule_ports:
                assert rule_ports == {ports["grpc"]}
                for peer in rule["from"]:
                    assert set(peer) == {"podSelector"}, "gRPC only from pods of this namespace"
                    assert selects(peer["podSelector"], gateway_labels)
            else:
                # The only other opening: Prometheus (monitoring namespace) on the REST port.
                assert rule_ports == {ports["rest"]}
                for peer in rule["from"]:
                    assert peer["namespaceSelector"]["matchLabels"] == {
                        "kubernetes.io/metadata.name": "monitoring"
                    }
    grpc_rules = [
        r
        for p in applying
        for r in p["spec"].get("ingress", [])
        if ports["grpc"] in {q["port"] for q in r["ports"]}
    ]
    assert grpc_rules, "the gateway must be allowed to reach TF Serving's gRPC port"
