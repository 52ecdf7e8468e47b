"""Response checks for the load test: a 200 with a wrong body is a failure, shed load is not.

Pure functions over status, headers and decoded JSON, so the locustfile, the runner and the
tests share them. Structure is validated with the gateway's own response models
(``service.schemas``, which generate the public OpenAPI document); the semantic checks below
catch bodies that are well-formed but wrong for the upload that was sent.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from pydantic import ValidationError

from model_artifact import PAPER_CLASSES, REST_CLASS, TASK_CLASSES
from service.schemas import (
    FrameResult,
    MediaSummary,
    ModelInfo,
    ModelList,
    ModelRef,
    PredictResponse,
    Summary,
)

SHED_STATUSES = (429, 503)
PROB_TOLERANCE = 1e-3


@dataclass(frozen=True)
class Upload:
    """What a predict request sent, so its answer can be checked against it."""

    kind: Literal["image", "video"]
    width: int
    height: int
    task: Literal["micro", "masked"]
    duration_s: float | None = None  # videos only
    min_faces: int = 1  # frames in which the (real) face must be found


def _schema_problems(exc: ValidationError) -> list[str]:
    return [
        f"schema: {'.'.join(str(p) for p in err['loc']) or '<body>'}: {err['msg']}"
        for err in exc.errors()[:5]
    ]


def _probability_problems(where: str, probs: Mapping[str, float], classes: list[str]) -> list[str]:
    if list(probs) != classes:
        return [f"{where}: probabilities keys {list(probs)} != classes {classes}"]
    problems = []
    if any(not (0.0 <= p <= 1.0) or math.isnan(p) for p in probs.values()):
        problems.append(f"{where}: probability outside [0, 1]")
    if abs(sum(probs.values()) - 1.0) > PROB_TOLERANCE:
        problems.append(f"{where}: probabilities sum to {sum(probs.values()):.4f}, not 1")
    return problems


def check_predict(body: Any, upload: Upload, model: str | None = None) -> list[str]:
    """Problems with a 200 answer to ``POST /v1/predict`` for ``upload`` (empty = correct).

    ``model``: the model name the answer must come from (the task's default), when known.
    """
    try:
        answer = PredictResponse.model_validate(body)
    except ValidationError as exc:
        return _schema_problems(exc)
    classes = list(answer.model.classes)
    problems = _media_problems(answer, upload)
    problems += _model_problems(answer.model, upload, classes, model)
    problems += _order_problems(answer.frames)
    labels: list[str] = []
    sums = dict.fromkeys(classes, 0.0)
    for frame in answer.frames:
        problems += _frame_problems(frame, answer.media, classes)
        probs = frame.probabilities
        if frame.face is None or probs is None or frame.label is None or frame.confidence is None:
            continue
        labels.append(frame.label)
        for c in classes:
            sums[c] += probs.get(c, 0.0)
    problems += _summary_problems(
        answer.summary, upload, labels, sums, classes, answer.model.rest_class
    )
    timing = answer.timing_ms
    if min(timing.decode, timing.detect, timing.infer, timing.total) < 0:
        problems.append(f"negative timing {timing}")
    return problems


def _media_problems(answer: PredictResponse, upload: Upload) -> list[str]:
    problems: list[str] = []
    media, frames = answer.media, answer.frames
    if media.kind != upload.kind:
        problems.append(f"media.kind {media.kind!r} != {upload.kind!r}")
    if (media.width, media.height) != (upload.width, upload.height):
        problems.append(
            f"media size {media.width}x{media.height} != upload {upload.width}x{upload.height}"
        )
    if upload.duration_s is not None and (
        media.duration_s is None or abs(media.duration_s - upload.duration_s) > 0.25
    ):
        problems.append(f"media.duration_s {media.duration_s} != {upload.duration_s}")
    if media.frames_sampled != len(frames) or not frames:
        problems.append(f"frames_sampled {media.frames_sampled} vs {len(frames)} frames")
    if upload.kind == "image" and len(frames) != 1:
        problems.append(f"an image gave {len(frames)} frames")
    return problems


def _model_problems(
    ref: ModelRef, upload: Upload, classes: list[str], model: str | None
) -> list[str]:
    problems: list[str] = []
    if ref.task != upload.task or not _valid_classes(ref.task, classes, ref.rest_class):
        problems.append(f"model {ref.name!r} is task {ref.task!r} {ref.classes}, not {upload.task}")
    if model is not None and ref.name != model:
        problems.append(f"model.name {ref.name!r} != default {model!r}")
    if ref.gate is not None and (ref.task != "masked" or ref.rest_class is None):
        problems.append(f"model.gate on {ref.name!r}: only masked models with a rest class")
    return problems


def _order_problems(frames: list[FrameResult]) -> list[str]:
    problems: list[str] = []
    indices = [f.index for f in frames]
    if indices != sorted(set(indices)):
        problems.append(f"frame indices not strictly increasing: {indices}")
    times = [f.timestamp_s for f in frames]
    if times != sorted(times):
        problems.append("frame timestamps go backwards")
    return problems


def _frame_problems(f: FrameResult, media: MediaSummary, classes: list[str]) -> list[str]:
    where = f"frame {f.index}"
    if f.face is None:
        if f.label is not None or f.confidence is not None or f.probabilities is not None:
            return [f"{where}: a label without a face"]
        return []
    problems: list[str] = []
    box = f.face
    if box.w <= 0 or box.h <= 0 or box.x < 0 or box.y < 0:
        problems.append(f"{where}: degenerate face box {box}")
    if box.x + box.w > media.width or box.y + box.h > media.height:
        problems.append(f"{where}: face box {box} outside the frame")
    if f.probabilities is None or f.label is None or f.confidence is None:
        problems.append(f"{where}: a face without label/confidence/probabilities")
        return problems
    problems += _probability_problems(where, f.probabilities, classes)
    best = max(f.probabilities, key=f.probabilities.__getitem__)
    if f.probabilities[f.label] < f.probabilities[best] or not math.isclose(
        f.confidence, f.probabilities[f.label], abs_tol=1e-6
    ):
        problems.append(f"{where}: label {f.label!r}/confidence disagree with probabilities")
    return problems


def _summary_problems(
    summary: Summary,
    upload: Upload,
    labels: list[str],
    sums: dict[str, float],
    classes: list[str],
    rest_class: str | None,
) -> list[str]:
    problems: list[str] = []
    if len(labels) < upload.min_faces:
        problems.append(f"face found in {len(labels)} frames, expected >= {upload.min_faces}")
    if summary.frames_with_face != len(labels):
        problems.append(f"summary.frames_with_face {summary.frames_with_face} != {len(labels)}")
    counts = Counter(labels)
    if {k: v for k, v in summary.label_counts.items() if v} != dict(counts):
        problems.append(f"summary.label_counts {summary.label_counts} != {dict(counts)}")
    if not counts:
        if summary.dominant_label is not None or summary.mean_probabilities:
            problems.append("summary has a label but no frame has a face")
        return problems
    # C2: the most frequent label other than the rest class (the rest class only alone).
    expressions = {k: v for k, v in counts.items() if k != rest_class} or dict(counts)
    top = max(expressions.values())
    if summary.dominant_label not in {k for k, v in expressions.items() if v == top}:
        problems.append(
            f"summary.dominant_label {summary.dominant_label!r} is not the most frequent expression"
        )
    mean = summary.mean_probabilities or {}
    expected_mean = {c: s / len(labels) for c, s in sums.items()}
    if list(mean) != classes or any(
        abs(mean[c] - expected_mean[c]) > PROB_TOLERANCE for c in classes
    ):
        problems.append("summary.mean_probabilities is not the mean of the frames")
    return problems


def check_models(body: Any) -> tuple[list[str], dict[str, str]]:
    """Problems with ``GET /v1/models``, and the default model name of each task."""
    try:
        catalogue = ModelList.model_validate(body)
    except ValidationError as exc:
        return _schema_problems(exc), {}
    problems: list[str] = []
    defaults: dict[str, str] = {}
    for info in catalogue.models:
        problems += _card_problems(info)
        if info.default_for_task:
            if info.task in defaults:
                problems.append(f"two defaults for task {info.task}")
            defaults[info.task] = info.name
            if info.status != "available":
                problems.append(f"default model {info.name} is {info.status}")
    for task in TASK_CLASSES:
        if task not in defaults:
            problems.append(f"no default model for task {task}")
    return problems, defaults


def check_model(body: Any, name: str) -> list[str]:
    """Problems with ``GET /v1/models/{name}``."""
    try:
        info = ModelInfo.model_validate(body)
    except ValidationError as exc:
        return _schema_problems(exc)
    problems = _card_problems(info)
    if info.name != name:
        problems.append(f"asked for {name!r}, got {info.name!r}")
    if info.version not in info.versions or info.version != max(info.versions, default=0):
        problems.append(f"version {info.version} is not the highest of {info.versions}")
    return problems


def _valid_classes(task: str, classes: list[str], rest_class: str | None) -> bool:
    """A model's classes: the task's paper classes, plus its rest class when it has one."""
    expected = list(PAPER_CLASSES[task]) + ([REST_CLASS[task]] if rest_class else [])
    return classes == expected and rest_class in (None, REST_CLASS[task])


def _card_problems(info: ModelInfo) -> list[str]:
    if not _valid_classes(info.task, list(info.classes), info.rest_class):
        return [
            f"{info.name}: classes {info.classes} (rest {info.rest_class}) do not match task "
            f"{info.task}"
        ]
    return []


def check_shed(status: int, headers: Mapping[str, str], body: Any) -> list[str]:
    """Problems with a 429/503 answer to excess load: it needs Retry-After and a problem body."""
    problems: list[str] = []
    retry_after = headers.get("retry-after") or headers.get("Retry-After")
    if retry_after is None:
        problems.append(f"{status} without Retry-After")
    elif not _valid_retry_after(retry_after):
        problems.append(f"{status} with an invalid Retry-After {retry_after!r}")
    content_type = headers.get("content-type") or headers.get("Content-Type") or ""
    if not content_type.startswith("application/problem+json"):
        problems.append(f"{status} with content-type {content_type!r}, not problem+json")
    if not isinstance(body, dict) or body.get("status") != status or not body.get("title"):
        problems.append(f"{status} without a problem body carrying its status")
    return problems


def _valid_retry_after(value: str) -> bool:
    """RFC 9110: delay-seconds or an HTTP-date."""
    if value.strip().isdigit():
        return True
    try:
        parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return True


Verdict = Literal["ok", "shed", "fail"]


def judge_predict(
    status: int,
    headers: Mapping[str, str],
    body: Any,
    upload: Upload,
    model: str | None = None,
) -> tuple[Verdict, list[str]]:
    """``ok`` (a correct 200), ``shed`` (a correct 429/503 with Retry-After) or ``fail``."""
    if status == 200:
        problems = check_predict(body, upload, model)
        return ("fail", problems) if problems else ("ok", [])
    if status in SHED_STATUSES:
        problems = check_shed(status, headers, body)
        return ("fail", problems) if problems else ("shed", [])
    detail = body.get("detail") if isinstance(body, dict) else None
    return "fail", [f"HTTP {status}: {detail or 'no problem detail'}"]
