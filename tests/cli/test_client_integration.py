"""The generated client (``mmed_client``) against the real gateway over a real socket."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from cli_helpers import VIDEO_FPS, VIDEO_SECONDS, VIDEO_SIZE, Server
from mmed_client import Client
from mmed_client.api.health import readyz_readyz_get
from mmed_client.api.models import get_model_v1_models_name_get, list_models_v1_models_get
from mmed_client.api.predict import predict_v1_predict_post
from mmed_client.models import (
    BodyPredictV1PredictPost,
    Face,
    ModelInfo,
    ModelList,
    PredictResponse,
    Problem,
)
from mmed_client.types import File

pytestmark = pytest.mark.slow  # `make test` runs it; `make test-fast` leaves it out


def client_for(server: Server, key: str | None = None) -> Client:
    headers = {"X-API-Key": key if key is not None else server.api_key}
    return Client(base_url=server.url, headers=headers, timeout=120.0)


def send(client: Client, path: Path, **params: object) -> PredictResponse | Problem | None:
    with path.open("rb") as fh:
        body = BodyPredictV1PredictPost(file=File(payload=fh, file_name=path.name))
        return predict_v1_predict_post.sync(client=client, body=body, **params)


def check_frame_probabilities(result: PredictResponse) -> None:
    classes = result.model.classes
    for frame in result.frames:
        if frame.face is None:
            assert frame.label is None and frame.probabilities is None
            continue
        assert isinstance(frame.face, Face)
        probs = frame.probabilities.additional_properties
        assert list(probs) == classes
        assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-3)
        assert frame.label == max(probs, key=probs.get)
        assert frame.confidence == pytest.approx(probs[frame.label])


def test_video_gives_typed_per_frame_results(server: Server, face_video: Path) -> None:
    with client_for(server) as client:
        result = send(client, face_video, sample_interval=0.5)
    assert isinstance(result, PredictResponse)
    media = result.media
    assert media.kind == "video"
    assert (media.width, media.height) == VIDEO_SIZE
    assert media.fps == pytest.approx(VIDEO_FPS)
    assert media.duration_s == pytest.approx(VIDEO_SECONDS, abs=0.1)
    # Every 0.5 s of a 3 s clip: the first frame at or after 0, 0.5, ..., 2.5 s.
    expected = [math.ceil(0.5 * k * VIDEO_FPS - 1e-9) for k in range(6)]
    assert [f.index for f in result.frames] == expected
    times = [f.timestamp_s for f in result.frames]
    assert times == pytest.approx([i / VIDEO_FPS for i in expected], abs=1e-3)
    assert media.frames_sampled == len(result.frames) == 6
    assert result.model.name == "micro-cnn" and result.model.task == "micro"
    check_frame_probabilities(result)
    with_face = [f for f in result.frames if f.face is not None]
    assert len(with_face) >= 5, "the astronaut's face is found in (nearly) every frame"
    assert result.summary.frames_with_face == len(with_face)
    assert result.summary.dominant_label in result.model.classes
    assert result.timing_ms.total > 0


def test_image_with_masked_task(server: Server, face_image: Path) -> None:
    with client_for(server) as client:
        result = send(client, face_image, task="masked")
    assert isinstance(result, PredictResponse)
    assert result.media.kind == "image"
    assert (result.media.width, result.media.height) == (512, 512)
    assert result.media.fps is None and result.media.duration_s is None
    assert result.model.name == "masked-cnn"
    assert result.model.classes == ["happy_but_angry", "happy_but_sad"]
    [frame] = result.frames
    assert frame.index == 0 and frame.timestamp_s == 0.0
    face = frame.face
    assert isinstance(face, Face)
    # The astronaut's face lies around x 182-270, y 75-175 in the photo.
    assert face.x < 226 < face.x + face.w and face.y < 125 < face.y + face.h
    check_frame_probabilities(result)


def test_catalogue_is_typed(server: Server) -> None:
    with client_for(server) as client:
        catalogue = list_models_v1_models_get.sync(client=client)
        one = get_model_v1_models_name_get.sync("micro-cnn", client=client)
        ready = readyz_readyz_get.sync_detailed(client=client)
    assert isinstance(catalogue, ModelList)
    names = {m.name: m for m in catalogue.models}
    assert set(names) == {"micro-cnn", "masked-cnn"}
    assert names["masked-cnn"].face_region == "upper"
    assert isinstance(one, ModelInfo)
    assert one.classes == ["anger", "contempt", "disgust", "happiness", "sadness"]
    assert one.default_for_task and one.versions == [1]
    assert ready.status_code == 200


@pytest.mark.parametrize(
    ("key", "file_fixture", "params", "status"),
    [
        ("wrong-key", "face_image", {}, 401),
        (None, "face_image", {"model": "micro-nosuch"}, 404),
        (None, "face_image", {"task": "masked", "model": "micro-cnn"}, 400),
        (None, "not_media", {}, 415),
    ],
)
def test_errors_are_typed_problem_details(
    server: Server,
    request: pytest.FixtureRequest,
    key: str | None,
    file_fixture: str,
    params: dict[str, object],
    status: int,
) -> None:
    path = request.getfixturevalue(file_fixture)
    with client_for(server, key) as client:
        problem = send(client, path, **params)
    assert isinstance(problem, Problem)
    assert problem.status == status
    assert problem.title and problem.detail and problem.type_.startswith("http")
