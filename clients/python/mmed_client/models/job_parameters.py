from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_parameters_task import JobParametersTask, check_job_parameters_task

T = TypeVar("T", bound="JobParameters")


@_attrs_define
class JobParameters:
    """The submit's query parameters, as resolved (the model version actually chosen).

    Attributes:
        detect_faces (bool):
        max_frames (int):
        model (str):
        sample_interval (float):
        task (JobParametersTask):
        version (int):
    """

    detect_faces: bool
    max_frames: int
    model: str
    sample_interval: float
    task: JobParametersTask
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        detect_faces = self.detect_faces

        max_frames = self.max_frames

        model = self.model

        sample_interval = self.sample_interval

        task: str = self.task

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "detect_faces": detect_faces,
                "max_frames": max_frames,
                "model": model,
                "sample_interval": sample_interval,
                "task": task,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        detect_faces = d.pop("detect_faces")

        max_frames = d.pop("max_frames")

        model = d.pop("model")

        sample_interval = d.pop("sample_interval")

        task = check_job_parameters_task(d.pop("task"))

        version = d.pop("version")

        job_parameters = cls(
            detect_faces=detect_faces,
            max_frames=max_frames,
            model=model,
            sample_interval=sample_interval,
            task=task,
            version=version,
        )

        job_parameters.additional_properties = d
        return job_parameters

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
