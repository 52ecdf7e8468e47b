from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_status import JobStatus, check_job_status

if TYPE_CHECKING:
    from ..models.job_parameters import JobParameters
    from ..models.job_progress import JobProgress
    from ..models.model_ref import ModelRef
    from ..models.problem import Problem


T = TypeVar("T", bound="Job")


@_attrs_define
class Job:
    """
    Attributes:
        created_at (str): ISO 8601, UTC.
        error (None | Problem): Why the job failed (problem details).
        eta_s (float | None): Estimated seconds to finish while running.
        finished_at (None | str):
        id (str): Unguessable job id.
        model (ModelRef):
        parameters (JobParameters): The submit's query parameters, as resolved (the model version actually chosen).
        progress (JobProgress):
        started_at (None | str):
        status (JobStatus):
    """

    created_at: str
    error: None | Problem
    eta_s: float | None
    finished_at: None | str
    id: str
    model: ModelRef
    parameters: JobParameters
    progress: JobProgress
    started_at: None | str
    status: JobStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.problem import Problem  # noqa: PLC0415

        created_at = self.created_at

        error: dict[str, Any] | None
        if isinstance(self.error, Problem):
            error = self.error.to_dict()
        else:
            error = self.error

        eta_s: float | None
        eta_s = self.eta_s

        finished_at: None | str
        finished_at = self.finished_at

        id = self.id

        model = self.model.to_dict()

        parameters = self.parameters.to_dict()

        progress = self.progress.to_dict()

        started_at: None | str
        started_at = self.started_at

        status: str = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "error": error,
                "eta_s": eta_s,
                "finished_at": finished_at,
                "id": id,
                "model": model,
                "parameters": parameters,
                "progress": progress,
                "started_at": started_at,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.job_parameters import JobParameters  # noqa: PLC0415
        from ..models.job_progress import JobProgress  # noqa: PLC0415
        from ..models.model_ref import ModelRef  # noqa: PLC0415
        from ..models.problem import Problem  # noqa: PLC0415

        d = dict(src_dict)
        created_at = d.pop("created_at")

        def _parse_error(data: object) -> None | Problem:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = Problem.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Problem, data)

        error = _parse_error(d.pop("error"))

        def _parse_eta_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        eta_s = _parse_eta_s(d.pop("eta_s"))

        def _parse_finished_at(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        finished_at = _parse_finished_at(d.pop("finished_at"))

        id = d.pop("id")

        model = ModelRef.from_dict(d.pop("model"))

        parameters = JobParameters.from_dict(d.pop("parameters"))

        progress = JobProgress.from_dict(d.pop("progress"))

        def _parse_started_at(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        started_at = _parse_started_at(d.pop("started_at"))

        status = check_job_status(d.pop("status"))

        job = cls(
            created_at=created_at,
            error=error,
            eta_s=eta_s,
            finished_at=finished_at,
            id=id,
            model=model,
            parameters=parameters,
            progress=progress,
            started_at=started_at,
            status=status,
        )

        job.additional_properties = d
        return job

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
