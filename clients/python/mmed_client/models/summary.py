from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.summary_label_counts import SummaryLabelCounts
    from ..models.summary_mean_probabilities_type_0 import SummaryMeanProbabilitiesType0


T = TypeVar("T", bound="Summary")


@_attrs_define
class Summary:
    """
    Attributes:
        dominant_label (None | str): The most frequent label other than model.rest_class among frames with a face (ties:
            the higher mean probability); the rest class only when no frame has another label; null when no frame has a
            face.
        frames_with_face (int):
        label_counts (SummaryLabelCounts): Frames per label, the rest class (model.rest_class) included.
        mean_probabilities (None | SummaryMeanProbabilitiesType0):
    """

    dominant_label: None | str
    frames_with_face: int
    label_counts: SummaryLabelCounts
    mean_probabilities: None | SummaryMeanProbabilitiesType0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.summary_mean_probabilities_type_0 import SummaryMeanProbabilitiesType0  # noqa: PLC0415

        dominant_label: None | str
        dominant_label = self.dominant_label

        frames_with_face = self.frames_with_face

        label_counts = self.label_counts.to_dict()

        mean_probabilities: dict[str, Any] | None
        if isinstance(self.mean_probabilities, SummaryMeanProbabilitiesType0):
            mean_probabilities = self.mean_probabilities.to_dict()
        else:
            mean_probabilities = self.mean_probabilities

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "dominant_label": dominant_label,
                "frames_with_face": frames_with_face,
                "label_counts": label_counts,
                "mean_probabilities": mean_probabilities,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.summary_label_counts import SummaryLabelCounts  # noqa: PLC0415
        from ..models.summary_mean_probabilities_type_0 import SummaryMeanProbabilitiesType0  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_dominant_label(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        dominant_label = _parse_dominant_label(d.pop("dominant_label"))

        frames_with_face = d.pop("frames_with_face")

        label_counts = SummaryLabelCounts.from_dict(d.pop("label_counts"))

        def _parse_mean_probabilities(data: object) -> None | SummaryMeanProbabilitiesType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                mean_probabilities_type_0 = SummaryMeanProbabilitiesType0.from_dict(data)

                return mean_probabilities_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SummaryMeanProbabilitiesType0, data)

        mean_probabilities = _parse_mean_probabilities(d.pop("mean_probabilities"))

        summary = cls(
            dominant_label=dominant_label,
            frames_with_face=frames_with_face,
            label_counts=label_counts,
            mean_probabilities=mean_probabilities,
        )

        summary.additional_properties = d
        return summary

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
