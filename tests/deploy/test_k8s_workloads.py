"""What the gateway and TF Serving Deployments must hold in every overlay, and the agreement
between the TF Serving ConfigMap and the model repository contract (model_artifact)."""

from __future__ import annotations

import re

import pytest
import yaml
from deploy_helpers import K8S, OVERLAYS, REPO, container, find, pod_spec

BASE = K8S / "base"
TFSERVING_CONFIGS = ("models.config", "batching.config", "monitoring.config")
GPU = "nvidia.com/gpu"


def env_of(objects: list[dict], deployment: dict, name: str) -> dict[str, str]:
    """The container's environment: envFrom ConfigMaps, then literal ``env`` values."""
    c = container(deployment, name)
    env: dict[str, str] = {}
    for source in c.get("envFrom", []):
        env.update(find(objects, "ConfigMap", source["configMapRef"]["name"])["data"])
    env.update({e["name"]: e["value"] for e in c.get("env", []) if "value" in e})
    return env


def mount_of(deployment: dict, name: str, volume_kind: str, claim: str | None = None) -> dict:
    """The container's mount of the (single) volume of ``volume_kind`` (PVC: ``claim``)."""
    spec = pod_spec(deployment)
    (volume,) = [
        v
        for v in spec["volumes"]
        if volume_kind in v and (claim is None or v[volume_kind].get("claimName") == claim)
    ]
    (mount,) = [
        m for m in container(deployment, name)["volumeMounts"] if m["name"] == volume["name"]
    ]
    return mount


def arg_values(args: list[str]) -> dict[str, str]:
    return dict(a[2:].split("=", 1) for a in args)


def base_tfserving_version() -> str:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    (image,) = [i for i in kustomization["images"] if i["name"] == "tensorflow/serving"]
    return image["newTag"]


# --- gateway -----------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gateway_replicas_resources_and_probes(rendered, overlay):
    gateway = find(rendered[overlay], "Deployment", "gateway")
    assert gateway["spec"]["replicas"] >= 2
    c = container(gateway, "gateway")
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind]), kind
    (port,) = c["ports"]
    assert port == {"name": "http", "containerPort": 8000, "protocol": "TCP"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert gateway["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gateway_talks_to_tfserving_and_reads_the_catalogue(rendered, overlay):
    objects = rendered[overlay]
    gateway = find(objects, "Deployment", "gateway")
    env = env_of(objects, gateway, "gateway")
    assert env["MMED_BACKEND"] == "tfserving"
    host, port = env["MMED_TFSERVING_GRPC"].rsplit(":", 1)
    service = find(objects, "Service", "tfserving")
    assert host == service["metadata"]["name"]
    assert int(port) == next(p["port"] for p in service["spec"]["ports"] if p["name"] == "grpc")
    # mmed.json of every version is read from the same repository TF Serving serves, read-only.
    repo_mount = mount_of(gateway, "gateway", "persistentVolumeClaim", "model-repository")
    assert env["MMED_MODEL_REPOSITORY"] == repo_mount["mountPath"]
    assert repo_mount["readOnly"] is True
    tfserving_mount = mount_of(
        find(objects, "Deployment", "tfserving"), "tfserving", "persistentVolumeClaim"
    )
    assert tfserving_mount["mountPath"] == repo_mount["mountPath"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gateway_tmp_is_a_writable_emptydir(rendered, overlay):
    """readOnlyRootFilesystem: uploads spool to /tmp, which must be its own volume."""
    gateway = find(rendered[overlay], "Deployment", "gateway")
    tmp = mount_of(gateway, "gateway", "emptyDir")
    assert tmp["mountPath"] == "/tmp"
    assert not tmp.get("readOnly", False)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_jobs_share_a_rwx_volume_and_a_postgresql_secret(rendered, overlay):
    objects = rendered[overlay]
    gateway = find(objects, "Deployment", "gateway")
    env = env_of(objects, gateway, "gateway")
    mount = mount_of(gateway, "gateway", "persistentVolumeClaim", "jobs")
    assert env["MMED_JOBS_DIR"] == mount["mountPath"] and not mount.get("readOnly", False)
    c = container(gateway, "gateway")
    (db,) = [e for e in c["env"] if e["name"] == "MMED_JOBS_DB"]
    assert db["valueFrom"]["secretKeyRef"] == {
        "name": "gateway-jobs-db",
        "key": "url",
        "optional": False,
    }
    modes = find(objects, "PersistentVolumeClaim", "jobs")["spec"]["accessModes"]
    assert modes == (["ReadWriteOnce"] if overlay == "dev-cpu" else ["ReadWriteMany"])


def test_api_keys_are_mandatory_in_production_only(rendered):
    def api_keys_ref(overlay: str) -> dict:
        c = container(find(rendered[overlay], "Deployment", "gateway"), "gateway")
        (entry,) = [e for e in c["env"] if e["name"] == "MMED_API_KEYS"]
        return entry["valueFrom"]["secretKeyRef"]

    assert api_keys_ref("prod-gpu")["optional"] is False
    assert api_keys_ref("dev-cpu")["optional"] is True


# --- TF Serving --------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_tfserving_flags_point_at_the_mounted_configs(rendered, overlay):
    objects = rendered[overlay]
    tfserving = find(objects, "Deployment", "tfserving")
    c = container(tfserving, "tfserving")
    assert c["command"] == ["/usr/bin/tensorflow_model_server"]
    flags = arg_values(c["args"])
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert int(flags["port"]) == ports["grpc"] == 8500
    assert int(flags["rest_api_port"]) == ports["rest"] == 8501
    assert flags["enable_batching"] == "true"

    config_mount = mount_of(tfserving, "tfserving", "configMap")
    assert config_mount["readOnly"] is True
    (volume,) = [v for v in pod_spec(tfserving)["volumes"] if "configMap" in v]
    data = find(objects, "ConfigMap", volume["configMap"]["name"])["data"]
    for flag, key in zip(
        ("model_config_file", "batching_parameters_file", "monitoring_config_file"),
        TFSERVING_CONFIGS,
        strict=True,
    ):
        assert flags[flag] == f"{config_mount['mountPath']}/{key}"
        assert data[key].strip(), key

    repo_mount = mount_of(tfserving, "tfserving", "persistentVolumeClaim")
    assert repo_mount["readOnly"] is True
    for base_path in re.findall(r'base_path: "([^"]+)"', data["models.config"]):
        assert base_path.startswith(repo_mount["mountPath"] + "/"), base_path


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_tfserving_probes_wait_for_loaded_models(rendered, overlay):
    """gRPC health (needs its flag) for every probe; never REST /v1/models/NAME, which answers
    200 while a version is still LOADING."""
    c = container(find(rendered[overlay], "Deployment", "tfserving"), "tfserving")
    assert "--enable_grpc_healthcheck_service=true" in c["args"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["grpc"] == {"port": 8500}, probe
        assert "httpGet" not in c[probe]
    # Model loading and warm-up may take minutes: the startup probe allows for it.
    startup = c["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300


def test_tfserving_gpu_only_in_production(rendered):
    version = base_tfserving_version()
    prod = find(rendered["prod-gpu"], "Deployment", "tfserving")
    c = container(prod, "tfserving")
    assert c["image"] == f"tensorflow/serving:{version}-gpu"
    assert c["resources"]["limits"][GPU] == 1
    assert c["resources"]["requests"][GPU] == c["resources"]["limits"][GPU]
    spec = pod_spec(prod)
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    assert prod["spec"]["replicas"] >= 2
    # No surge pod during a rollout: it would wait for a spare GPU.
    assert prod["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}

    dev = find(rendered["dev-cpu"], "Deployment", "tfserving")
    c = container(dev, "tfserving")
    assert c["image"] == f"tensorflow/serving:{version}"
    assert all(GPU not in c["resources"].get(k, {}) for k in ("requests", "limits"))
    assert "nodeSelector" not in pod_spec(dev) and "tolerations" not in pod_spec(dev)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_pinned(rendered, overlay):
    for deployment in ("gateway", "tfserving"):
        for c in pod_spec(find(rendered[overlay], "Deployment", deployment))["containers"]:
            name, _, tag = c["image"].rpartition(":")
            assert name and tag and tag != "latest" and "/" not in tag, c["image"]


def test_tfserving_version_is_documented():
    version = base_tfserving_version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert f"tensorflow/serving:{version}-gpu" in (REPO / "docs" / "deploy.md").read_text()


# --- the ConfigMap copies of the repository's TF Serving files -----------------------------


@pytest.mark.parametrize("filename", TFSERVING_CONFIGS)
def test_tfserving_configs_match_the_model_repository(filename):
    """kustomize can only read files below k8s/base, so the TF Serving files are copies; when
    the repository holds its own (written by training), the copies must be identical."""
    copy = BASE / "tfserving" / filename
    original = REPO / "model_repository" / filename
    if not original.is_file():
        pytest.skip(f"model_repository/{filename} not generated yet (make models)")
    assert copy.read_text() == original.read_text(), (
        f"k8s/base/tfserving/{filename} differs from model_repository/{filename}: "
        f"cp model_repository/{filename} k8s/base/tfserving/"
    )


def test_batching_and_monitoring_configs_are_the_contract_ones():
    from model_artifact.serving_config import BatchingParameters, render_monitoring_config

    batching = (BASE / "tfserving" / "batching.config").read_text()
    assert BatchingParameters.parse(batching).render() == batching
    assert (BASE / "tfserving" / "monitoring.config").read_text() == render_monitoring_config()


def test_models_config_serves_the_gateway_defaults_from_the_repository():
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    from model_artifact.card import NAME_RE

    config = text_format.Parse(
        (BASE / "tfserving" / "models.config").read_text(),
        model_server_config_pb2.ModelServerConfig(),
    )
    entries = list(config.model_config_list.config)
    assert entries
    names = [e.name for e in entries]
    assert len(set(names)) == len(names)
    for entry in entries:
        assert NAME_RE.match(entry.name), entry.name
        assert entry.base_path == f"/models/{entry.name}"
        assert entry.model_platform == "tensorflow"
    settings = pytest.importorskip("service.settings").Settings
    defaults = settings.model_fields
    for field in ("default_micro_model", "default_masked_model"):
        assert defaults[field].default in names, field


def test_gateway_image_tag_is_the_project_version():
    import tomllib

    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    (image,) = [i for i in kustomization["images"] if i["name"] == "mmed-gateway"]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert image["newTag"] == project["version"]
