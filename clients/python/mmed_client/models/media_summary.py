from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.media_summary_kind import MediaSummaryKind, check_media_summary_kind
from ..types import UNSET, Unset

T = TypeVar("T", bound="MediaSummary")


@_attrs_define
class MediaSummary:
    """
    Attributes:
        frames_sampled (int):
        height (int):
        kind (MediaSummaryKind):
        width (int):
        duration_s (float | None | Unset): Duration; null for images.
        fps (float | None | Unset): Average frame rate; null for images.
    """

    frames_sampled: int
    height: int
    kind: MediaSummaryKind
    width: int
    duration_s: float | None | Unset = UNSET
    fps: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        frames_sampled = self.frames_sampled

        height = self.height

        kind: str = self.kind

        width = self.width

        duration_s: float | None | Unset
        if isinstance(self.duration_s, Unset):
            duration_s = UNSET
        else:
            duration_s = self.duration_s

        fps: float | None | Unset
        if isinstance(self.fps, Unset):
            fps = UNSET
        else:
            fps = self.fps

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frames_sampled": frames_sampled,
                "height": height,
                "kind": kind,
                "width": width,
            }
        )
        if duration_s is not UNSET:
            field_dict["duration_s"] = duration_s
        if fps is not UNSET:
            field_dict["fps"] = fps

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        frames_sampled = d.pop("frames_sampled")

        height = d.pop("height")

        kind = check_media_summary_kind(d.pop("kind"))

        width = d.pop("width")

        def _parse_duration_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        duration_s = _parse_duration_s(d.pop("duration_s", UNSET))

        def _parse_fps(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        fps = _parse_fps(d.pop("fps", UNSET))

        media_summary = cls(
            frames_sampled=frames_sampled,
            height=height,
            kind=kind,
            width=width,
            duration_s=duration_s,
            fps=fps,
        )

        media_summary.additional_properties = d
        return media_summary

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
