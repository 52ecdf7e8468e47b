from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.body_submit_v1_jobs_post import BodySubmitV1JobsPost
from ...models.job import Job
from ...models.problem import Problem
from ...models.submit_v1_jobs_post_task_type_0 import SubmitV1JobsPostTaskType0
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: BodySubmitV1JobsPost,
    task: None | SubmitV1JobsPostTaskType0 | Unset = UNSET,
    model: None | str | Unset = UNSET,
    version: int | None | Unset = UNSET,
    sample_interval: float | Unset = 0.5,
    detect_faces: bool | Unset = True,
    max_frames: int | None | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    params: dict[str, Any] = {}

    json_task: None | str | Unset
    if isinstance(task, Unset):
        json_task = UNSET
    elif isinstance(task, str):
        json_task = task
    else:
        json_task = task
    params["task"] = json_task

    json_model: None | str | Unset
    if isinstance(model, Unset):
        json_model = UNSET
    else:
        json_model = model
    params["model"] = json_model

    json_version: int | None | Unset
    if isinstance(version, Unset):
        json_version = UNSET
    else:
        json_version = version
    params["version"] = json_version

    params["sample_interval"] = sample_interval

    params["detect_faces"] = detect_faces

    json_max_frames: int | None | Unset
    if isinstance(max_frames, Unset):
        json_max_frames = UNSET
    else:
        json_max_frames = max_frames
    params["max_frames"] = json_max_frames

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/jobs",
        "params": params,
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Job | Problem | None:
    if response.status_code == 202:
        response_202 = Job.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 502:
        response_502 = Problem.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = Problem.from_dict(response.json())

        return response_504

    if response.status_code == 507:
        response_507 = Problem.from_dict(response.json())

        return response_507

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Job | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BodySubmitV1JobsPost,
    task: None | SubmitV1JobsPostTaskType0 | Unset = UNSET,
    model: None | str | Unset = UNSET,
    version: int | None | Unset = UNSET,
    sample_interval: float | Unset = 0.5,
    detect_faces: bool | Unset = True,
    max_frames: int | None | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Job | Problem]:
    """Submit an image or video for analysis as a durable job

     202 + ``Location``: the job runs in the background; poll it, or follow its events.

    Args:
        task (None | SubmitV1JobsPostTaskType0 | Unset): micro (5 classes) or masked (2 classes);
            default: micro, or the task of `model` when given.
        model (None | str | Unset): A model name from /v1/models.
        version (int | None | Unset):
        sample_interval (float | Unset): Seconds between sampled frames; 0 = every frame. Default:
            0.5.
        detect_faces (bool | Unset): false: the whole image is the face box. Default: True.
        max_frames (int | None | Unset):
        idempotency_key (None | str | Unset): A retried submit with the same key returns the same
            job.
        body (BodySubmitV1JobsPost):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Job | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        task=task,
        model=model,
        version=version,
        sample_interval=sample_interval,
        detect_faces=detect_faces,
        max_frames=max_frames,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: BodySubmitV1JobsPost,
    task: None | SubmitV1JobsPostTaskType0 | Unset = UNSET,
    model: None | str | Unset = UNSET,
    version: int | None | Unset = UNSET,
    sample_interval: float | Unset = 0.5,
    detect_faces: bool | Unset = True,
    max_frames: int | None | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Job | Problem | None:
    """Submit an image or video for analysis as a durable job

     202 + ``Location``: the job runs in the background; poll it, or follow its events.

    Args:
        task (None | SubmitV1JobsPostTaskType0 | Unset): micro (5 classes) or masked (2 classes);
            default: micro, or the task of `model` when given.
        model (None | str | Unset): A model name from /v1/models.
        version (int | None | Unset):
        sample_interval (float | Unset): Seconds between sampled frames; 0 = every frame. Default:
            0.5.
        detect_faces (bool | Unset): false: the whole image is the face box. Default: True.
        max_frames (int | None | Unset):
        idempotency_key (None | str | Unset): A retried submit with the same key returns the same
            job.
        body (BodySubmitV1JobsPost):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Job | Problem
    """

    return sync_detailed(
        client=client,
        body=body,
        task=task,
        model=model,
        version=version,
        sample_interval=sample_interval,
        detect_faces=detect_faces,
        max_frames=max_frames,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BodySubmitV1JobsPost,
    task: None | SubmitV1JobsPostTaskType0 | Unset = UNSET,
    model: None | str | Unset = UNSET,
    version: int | None | Unset = UNSET,
    sample_interval: float | Unset = 0.5,
    detect_faces: bool | Unset = True,
    max_frames: int | None | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Response[Job | Problem]:
    """Submit an image or video for analysis as a durable job

     202 + ``Location``: the job runs in the background; poll it, or follow its events.

    Args:
        task (None | SubmitV1JobsPostTaskType0 | Unset): micro (5 classes) or masked (2 classes);
            default: micro, or the task of `model` when given.
        model (None | str | Unset): A model name from /v1/models.
        version (int | None | Unset):
        sample_interval (float | Unset): Seconds between sampled frames; 0 = every frame. Default:
            0.5.
        detect_faces (bool | Unset): false: the whole image is the face box. Default: True.
        max_frames (int | None | Unset):
        idempotency_key (None | str | Unset): A retried submit with the same key returns the same
            job.
        body (BodySubmitV1JobsPost):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Job | Problem]
    """

    kwargs = _get_kwargs(
        body=body,
        task=task,
        model=model,
        version=version,
        sample_interval=sample_interval,
        detect_faces=detect_faces,
        max_frames=max_frames,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BodySubmitV1JobsPost,
    task: None | SubmitV1JobsPostTaskType0 | Unset = UNSET,
    model: None | str | Unset = UNSET,
    version: int | None | Unset = UNSET,
    sample_interval: float | Unset = 0.5,
    detect_faces: bool | Unset = True,
    max_frames: int | None | Unset = UNSET,
    idempotency_key: None | str | Unset = UNSET,
) -> Job | Problem | None:
    """Submit an image or video for analysis as a durable job

     202 + ``Location``: the job runs in the background; poll it, or follow its events.

    Args:
        task (None | SubmitV1JobsPostTaskType0 | Unset): micro (5 classes) or masked (2 classes);
            default: micro, or the task of `model` when given.
        model (None | str | Unset): A model name from /v1/models.
        version (int | None | Unset):
        sample_interval (float | Unset): Seconds between sampled frames; 0 = every frame. Default:
            0.5.
        detect_faces (bool | Unset): false: the whole image is the face box. Default: True.
        max_frames (int | None | Unset):
        idempotency_key (None | str | Unset): A retried submit with the same key returns the same
            job.
        body (BodySubmitV1JobsPost):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Job | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            task=task,
            model=model,
            version=version,
            sample_interval=sample_interval,
            detect_faces=detect_faces,
            max_frames=max_frames,
            idempotency_key=idempotency_key,
        )
    ).parsed
