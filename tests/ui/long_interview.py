"""A synthesised result of a 12-minute interview analysed every frame (21,808 frames at 30 fps,
six classes with a ``neutral`` rest class, faceless stretches and spotted events), served to the
page through Playwright request routes in place of the job API.

Used ONLY to measure the timeline's drawing and seeking at that size: no 12-minute recording
ships with the repository and analysing one takes minutes. The upload → job → result path is
tested against a real gateway in ``test_review_page.py``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np

FPS = 30.0
FRAMES = 21_808
CLASSES = ["anger", "contempt", "disgust", "happiness", "sadness", "neutral"]
JOB_ID = "synthetic-12-minute-interview"


def result(seed: int = 0) -> dict[str, Any]:
    """A PredictResponse-shaped body: smooth random probabilities, argmax labels."""
    rng = np.random.default_rng(seed)
    k = len(CLASSES)
    walk = np.cumsum(rng.normal(0, 0.08, (FRAMES, k)), axis=0)
    walk[:, -1] += 1.5  # mostly neutral, as an interview is
    probs = np.exp(walk - walk.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    face = np.ones(FRAMES, bool)
    for start in rng.integers(0, FRAMES - 200, 12):  # the speaker looks away now and then
        face[start : start + rng.integers(15, 200)] = False
    box = {"x": 400, "y": 120, "w": 360, "h": 360, "score": 0.99}
    frames = []
    for i in range(FRAMES):
        p = probs[i]
        best = int(p.argmax())
        frames.append(
            {
                "index": i,
                "timestamp_s": round(i / FPS, 6),
                "face": box if face[i] else None,
                "label": CLASSES[best] if face[i] else None,
                "confidence": round(float(p[best]), 6) if face[i] else None,
                "probabilities": (
                    {c: round(float(v), 6) for c, v in zip(CLASSES, p, strict=True)}
                    if face[i]
                    else None
                ),
            }
        )
    events = []
    for onset in sorted(rng.choice(FRAMES - 40, 60, replace=False).tolist()):
        length = int(rng.integers(6, 30))
        apex = onset + length // 2
        events.append(
            {
                "kind": "micro" if length < 15 else "macro",
                "label": CLASSES[int(rng.integers(0, k - 1))],
                "confidence": round(float(rng.uniform(0.5, 1.0)), 3),
                "onset_index": onset,
                "apex_index": apex,
                "offset_index": onset + length,
                "onset_s": onset / FPS,
                "apex_s": apex / FPS,
                "offset_s": (onset + length) / FPS,
                "evidence": {},
            }
        )
    with_face = int(face.sum())
    labels = [f["label"] for f in frames if f["label"]]
    return {
        "media": {
            "kind": "video",
            "width": 1280,
            "height": 720,
            "fps": FPS,
            "duration_s": FRAMES / FPS,
            "frames_sampled": FRAMES,
        },
        "model": {
            "name": "micro-synthetic",
            "version": 1,
            "task": "micro",
            "classes": CLASSES,
            "rest_class": "neutral",
        },
        "frames": frames,
        "events": events,
        "summary": {
            "frames_with_face": with_face,
            "label_counts": {c: labels.count(c) for c in CLASSES},
            "dominant_label": max(CLASSES[:-1], key=labels.count),
            "mean_probabilities": {c: float(probs[face, j].mean()) for j, c in enumerate(CLASSES)},
        },
        "timing_ms": {"decode": 0.0, "detect": 0.0, "infer": 0.0, "total": 0.0},
    }


def job(body: dict[str, Any]) -> dict[str, Any]:
    n = len(body["frames"])
    return {
        "id": JOB_ID,
        "status": "succeeded",
        "progress": {
            "frames_done": n,
            "frames_total": n,
            "media_s_done": body["media"]["duration_s"],
            "media_s_total": body["media"]["duration_s"],
        },
        "eta_s": 0,
        "created_at": "2026-12-01T06:00:00Z",
        "started_at": "2026-12-01T06:00:01Z",
        "finished_at": "2026-12-01T06:02:00Z",
        "error": None,
        "parameters": {"task": "micro", "sample_interval": 0},
        "model": body["model"],
    }


def route_jobs(page: Any, body: dict[str, Any]) -> None:
    """Answer the page's job requests (list and paginated result) with ``body``."""
    listing = json.dumps({"jobs": [job(body)]})

    def handle(route: Any) -> None:
        url = urlparse(route.request.url)
        if url.path == "/v1/jobs":
            route.fulfill(body=listing, content_type="application/json")
        elif url.path == f"/v1/jobs/{JOB_ID}/result":
            query = parse_qs(url.query)
            offset = int(query.get("offset", ["0"])[0])
            limit = int(query.get("limit", ["1000"])[0])
            page_body = {**body, "frames": body["frames"][offset : offset + limit]}
            route.fulfill(body=json.dumps(page_body), content_type="application/json")
        else:
            route.fulfill(status=404, json={"title": "Not Found", "status": 404, "detail": ""})

    page.route("**/v1/jobs**", handle)
