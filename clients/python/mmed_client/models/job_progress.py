from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="JobProgress")


@_attrs_define
class JobProgress:
    """
    Attributes:
        frames_done (int): Sampled frames analysed and stored so far.
        frames_total (int | None): Expected sampled frames (from the container's duration; exact once done).
        media_s_done (float): Media time analysed so far.
        media_s_total (float | None): The video's duration; null for images.
    """

    frames_done: int
    frames_total: int | None
    media_s_done: float
    media_s_total: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        frames_done = self.frames_done

        frames_total: int | None
        frames_total = self.frames_total

        media_s_done = self.media_s_done

        media_s_total: float | None
        media_s_total = self.media_s_total

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frames_done": frames_done,
                "frames_total": frames_total,
                "media_s_done": media_s_done,
                "media_s_total": media_s_total,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        frames_done = d.pop("frames_done")

        def _parse_frames_total(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        frames_total = _parse_frames_total(d.pop("frames_total"))

        media_s_done = d.pop("media_s_done")

        def _parse_media_s_total(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        media_s_total = _parse_media_s_total(d.pop("media_s_total"))

        job_progress = cls(
            frames_done=frames_done,
            frames_total=frames_total,
            media_s_done=media_s_done,
            media_s_total=media_s_total,
        )

        job_progress.additional_properties = d
        return job_progress

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
