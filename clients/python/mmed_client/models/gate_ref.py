from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="GateRef")


@_attrs_define
class GateRef:
    """The smile gate a masked answer went through (service/gate.py): a masked label needs a
    smiling face, read from ``model``'s ``smile_class`` on the full face.

        Attributes:
            model (str):
            smile_class (str):
            version (int):
    """

    model: str
    smile_class: str
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        smile_class = self.smile_class

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "smile_class": smile_class,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = d.pop("model")

        smile_class = d.pop("smile_class")

        version = d.pop("version")

        gate_ref = cls(
            model=model,
            smile_class=smile_class,
            version=version,
        )

        gate_ref.additional_properties = d
        return gate_ref

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
