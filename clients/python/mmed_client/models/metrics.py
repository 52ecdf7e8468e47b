from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.metrics_per_class import MetricsPerClass


T = TypeVar("T", bound="Metrics")


@_attrs_define
class Metrics:
    """Held-out figures, as the paper reports them.

    Attributes:
        accuracy (float):
        macro_f1 (float):
        per_class (MetricsPerClass):
        weighted_f1 (float | None | Unset):
    """

    accuracy: float
    macro_f1: float
    per_class: MetricsPerClass
    weighted_f1: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        accuracy = self.accuracy

        macro_f1 = self.macro_f1

        per_class = self.per_class.to_dict()

        weighted_f1: float | None | Unset
        if isinstance(self.weighted_f1, Unset):
            weighted_f1 = UNSET
        else:
            weighted_f1 = self.weighted_f1

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "accuracy": accuracy,
                "macro_f1": macro_f1,
                "per_class": per_class,
            }
        )
        if weighted_f1 is not UNSET:
            field_dict["weighted_f1"] = weighted_f1

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metrics_per_class import MetricsPerClass  # noqa: PLC0415

        d = dict(src_dict)
        accuracy = d.pop("accuracy")

        macro_f1 = d.pop("macro_f1")

        per_class = MetricsPerClass.from_dict(d.pop("per_class"))

        def _parse_weighted_f1(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        weighted_f1 = _parse_weighted_f1(d.pop("weighted_f1", UNSET))

        metrics = cls(
            accuracy=accuracy,
            macro_f1=macro_f1,
            per_class=per_class,
            weighted_f1=weighted_f1,
        )

        metrics.additional_properties = d
        return metrics

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
