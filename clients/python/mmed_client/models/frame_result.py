from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.face import Face
    from ..models.frame_result_probabilities_type_0 import FrameResultProbabilitiesType0


T = TypeVar("T", bound="FrameResult")


@_attrs_define
class FrameResult:
    """
    Attributes:
        confidence (float | None):
        face (Face | None): Null when no face was found in the frame.
        index (int): 0-based index of the frame in the decoded stream.
        label (None | str): Null when no face was found (never a guess).
        probabilities (FrameResultProbabilitiesType0 | None):
        timestamp_s (float): Presentation time from the stream start.
    """

    confidence: float | None
    face: Face | None
    index: int
    label: None | str
    probabilities: FrameResultProbabilitiesType0 | None
    timestamp_s: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.face import Face  # noqa: PLC0415
        from ..models.frame_result_probabilities_type_0 import FrameResultProbabilitiesType0  # noqa: PLC0415

        confidence: float | None
        confidence = self.confidence

        face: dict[str, Any] | None
        if isinstance(self.face, Face):
            face = self.face.to_dict()
        else:
            face = self.face

        index = self.index

        label: None | str
        label = self.label

        probabilities: dict[str, Any] | None
        if isinstance(self.probabilities, FrameResultProbabilitiesType0):
            probabilities = self.probabilities.to_dict()
        else:
            probabilities = self.probabilities

        timestamp_s = self.timestamp_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "confidence": confidence,
                "face": face,
                "index": index,
                "label": label,
                "probabilities": probabilities,
                "timestamp_s": timestamp_s,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.face import Face  # noqa: PLC0415
        from ..models.frame_result_probabilities_type_0 import FrameResultProbabilitiesType0  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_confidence(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        confidence = _parse_confidence(d.pop("confidence"))

        def _parse_face(data: object) -> Face | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                face_type_0 = Face.from_dict(data)

                return face_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Face | None, data)

        face = _parse_face(d.pop("face"))

        index = d.pop("index")

        def _parse_label(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        label = _parse_label(d.pop("label"))

        def _parse_probabilities(data: object) -> FrameResultProbabilitiesType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                probabilities_type_0 = FrameResultProbabilitiesType0.from_dict(data)

                return probabilities_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FrameResultProbabilitiesType0 | None, data)

        probabilities = _parse_probabilities(d.pop("probabilities"))

        timestamp_s = d.pop("timestamp_s")

        frame_result = cls(
            confidence=confidence,
            face=face,
            index=index,
            label=label,
            probabilities=probabilities,
            timestamp_s=timestamp_s,
        )

        frame_result.additional_properties = d
        return frame_result

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
