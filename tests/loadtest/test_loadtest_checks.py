"""The load test's response checks, on real gateway answers and on answers broken one way each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from loadtest.checks import (
    check_model,
    check_models,
    check_predict,
    check_shed,
    judge_predict,
)
from loadtest.media import Media

# Most checks run on the answers of a gateway started for this module (~15 s): slow.
pytestmark = pytest.mark.slow

PROBLEM = {"type": "about:blank", "title": "Service saturated", "status": 503, "detail": "busy"}
PROBLEM_HEADERS = {"content-type": "application/problem+json", "retry-after": "1"}


@pytest.mark.parametrize(
    ("key", "task"), [("micro", "micro"), ("masked", "masked"), ("video", "micro")]
)
def test_real_answers_pass(
    real_answers: dict[str, Any], media: dict[str, Media], key: str, task: str
) -> None:
    assert check_predict(real_answers[key], media[key].upload(task)) == []
    assert judge_predict(200, {}, real_answers[key], media[key].upload(task)) == ("ok", [])


def test_real_catalogue_passes(real_answers: dict[str, Any]) -> None:
    problems, defaults = check_models(real_answers["models"])
    assert problems == []
    assert defaults == {"micro": "micro-cnn", "masked": "masked-cnn"}
    assert check_model(real_answers["model"], "micro-cnn") == []


def _first_face(body: dict) -> dict:
    return next(f for f in body["frames"] if f["face"] is not None)


def _break_probabilities(body: dict) -> None:
    frame = _first_face(body)
    frame["probabilities"] = dict.fromkeys(frame["probabilities"], 0.5)


def _break_label(body: dict) -> None:
    frame = _first_face(body)
    frame["label"] = min(frame["probabilities"], key=frame["probabilities"].__getitem__)


BREAKAGES: dict[str, tuple[Callable[[dict], None], str]] = {
    "missing field": (lambda b: b.pop("summary"), "schema: summary"),
    "wrong type": (lambda b: b["media"].update(width="wide"), "schema: media.width"),
    "wrong size": (lambda b: b["media"].update(width=b["media"]["width"] + 1), "media size"),
    "wrong kind": (lambda b: b["media"].update(kind="video"), "media.kind"),
    "no frames": (lambda b: b.update(frames=[]), "frames_sampled"),
    "frame count": (lambda b: b["media"].update(frames_sampled=7), "frames_sampled"),
    "wrong task": (
        lambda b: b["model"].update(task="masked", classes=["happy_but_angry", "happy_but_sad"]),
        "not micro",
    ),
    "gated micro": (
        lambda b: b["model"].update(
            gate={"model": "micro-cnn", "version": 4, "smile_class": "happiness"}
        ),
        "model.gate",
    ),
    "probabilities": (_break_probabilities, "sum to"),
    "label": (_break_label, "disagree"),
    "no face": (
        lambda b: _first_face(b).update(face=None, label=None, confidence=None, probabilities=None),
        "face found in 0 frames",
    ),
    "box outside": (lambda b: _first_face(b)["face"].update(x=10_000), "outside the frame"),
    "summary count": (lambda b: b["summary"].update(frames_with_face=3), "frames_with_face"),
    "summary mode": (lambda b: b["summary"].update(label_counts={"anger": 9}), "label_counts"),
    "summary mean": (
        lambda b: b["summary"].update(mean_probabilities=dict.fromkeys(b["model"]["classes"], 0.2)),
        "mean_probabilities",
    ),
    "timing": (lambda b: b["timing_ms"].update(total=-1.0), "negative timing"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_wrong_image_answers_fail(
    breakage: str, mutated: Callable[[str], Any], media: dict[str, Media]
) -> None:
    body = mutated("micro")
    change, expected = BREAKAGES[breakage]
    change(body)
    problems = check_predict(body, media["micro"].upload("micro"))
    assert any(expected in p for p in problems), problems
    verdict, _ = judge_predict(200, {}, body, media["micro"].upload("micro"))
    assert verdict == "fail"


def test_wrong_model_name_fails(real_answers: dict[str, Any], media: dict[str, Media]) -> None:
    problems = check_predict(real_answers["micro"], media["micro"].upload("micro"), "micro-vgg16")
    assert any("!= default 'micro-vgg16'" in p for p in problems)


def test_wrong_video_answers_fail(mutated: Callable[[str], Any], media: dict[str, Media]) -> None:
    body = mutated("video")
    body["media"]["duration_s"] = 9.0
    body["frames"] = list(reversed(body["frames"]))
    problems = check_predict(body, media["video"].upload("micro"))
    assert any("duration_s" in p for p in problems)
    assert any("indices" in p for p in problems)


def test_an_image_answer_is_wrong_for_a_video(
    real_answers: dict[str, Any], media: dict[str, Media]
) -> None:
    assert check_predict(real_answers["micro"], media["video"].upload("micro"))


def test_wrong_catalogues_fail(mutated: Callable[[str], Any]) -> None:
    assert check_models({"models": []})[0] == [
        "no default model for task micro",
        "no default model for task masked",
    ]
    body = mutated("models")
    body["models"][0]["classes"] = ["x", "y"]
    assert any("do not match" in p for p in check_models(body)[0])
    assert any("schema" in p for p in check_models({"models": [{}]})[0])
    assert check_model(mutated("model"), "masked-cnn") == [
        "asked for 'masked-cnn', got 'micro-cnn'"
    ]


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (503, PROBLEM_HEADERS, PROBLEM, []),
        (
            429,
            {**PROBLEM_HEADERS, "retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"},
            {**PROBLEM, "status": 429},
            [],
        ),
        (503, {"content-type": "application/problem+json"}, PROBLEM, ["503 without Retry-After"]),
        (503, {**PROBLEM_HEADERS, "retry-after": "soon"}, PROBLEM, ["invalid Retry-After"]),
        (503, {**PROBLEM_HEADERS, "content-type": "text/html"}, PROBLEM, ["not problem+json"]),
        (503, PROBLEM_HEADERS, {"detail": "busy"}, ["problem body"]),
    ],
)
def test_shed_answers(status: int, headers: dict[str, str], body: Any, expected: list[str]) -> None:
    problems = check_shed(status, headers, body)
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem


@pytest.mark.parametrize("status", [500, 502, 504, 400, 401, 404, 413, 415, 422])
def test_other_statuses_fail(status: int, media: dict[str, Media]) -> None:
    body = {"type": "about:blank", "title": "x", "status": status, "detail": "boom"}
    verdict, problems = judge_predict(status, PROBLEM_HEADERS, body, media["micro"].upload("micro"))
    assert verdict == "fail"
    assert problems == [f"HTTP {status}: boom"]


def test_shed_verdict(media: dict[str, Media]) -> None:
    upload = media["micro"].upload("micro")
    assert judge_predict(503, PROBLEM_HEADERS, PROBLEM, upload) == ("shed", [])
    assert (
        judge_predict(503, {"content-type": "application/problem+json"}, PROBLEM, upload)[0]
        == "fail"
    )
