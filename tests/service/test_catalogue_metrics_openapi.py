"""Catalogue, probes, Prometheus metrics and the committed OpenAPI document."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tools.export_openapi import render

REPO = Path(__file__).resolve().parents[2]


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
        if got == want:
            return float(m.group(3))
    return 0.0


def test_models_catalogue(client) -> None:
    models = client.get("/v1/models").json()["models"]
    assert [m["name"] for m in models] == ["masked-cnn", "micro-cnn"]
    micro = client.get("/v1/models/micro-cnn").json()
    assert micro["status"] == "available" and micro["default_for_task"] is True
    assert micro["versions"] == [1] and micro["face_region"] == "full"
    assert micro["input"] == {"height": 48, "width": 48, "channels": 1, "dtype": "uint8"}
    assert set(micro["metrics"]) >= {"accuracy", "macro_f1", "per_class"}


def test_probes(client) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready == {
        "status": "ready",
        "backend": "embedded",
        "models": ["micro-cnn", "masked-cnn"],
    }


def test_metrics_move_after_a_request(client, face_jpeg, no_face_png) -> None:
    before = client.get("/metrics").text
    client.post("/v1/predict", files={"file": ("a", face_jpeg)})
    client.post("/v1/predict", files={"file": ("b", no_face_png)})
    client.post("/v1/predict", files={"file": ("c", b"not media")})
    after = client.get("/metrics").text
    route = {"method": "POST", "route": "/v1/predict"}

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert delta("mmed_http_requests_total", **route, status="200") == 2
    assert delta("mmed_http_requests_total", **route, status="415") == 1
    assert delta("mmed_http_request_duration_seconds_count", **route, status="200") == 2
    assert delta("mmed_frames_sampled_total", kind="image") == 2
    assert delta("mmed_faces_found_total", kind="image") == 1
    labelled = sum(
        delta("mmed_predictions_total", model="micro-cnn", label=c)
        for c in ("anger", "contempt", "disgust", "happiness", "sadness")
    )
    assert labelled == 1
    for stage in ("decode", "detect", "infer"):
        assert delta("mmed_stage_duration_seconds_count", stage=stage) == 2
    assert delta("mmed_upload_bytes_count") == 3
    assert metric(after, "mmed_http_requests_in_flight") == 1  # the /metrics call itself


def test_committed_openapi_matches_the_app(client) -> None:
    served = client.get("/openapi.json").json()
    committed = json.loads((REPO / "openapi.json").read_text())
    assert served == committed, "openapi.json is stale: run `make openapi` and commit it"
    assert (REPO / "openapi.json").read_text() == render()
    predict = served["paths"]["/v1/predict"]["post"]
    assert {"200", "400", "401", "404", "413", "415", "422", "503", "504"} <= set(
        predict["responses"]
    )
