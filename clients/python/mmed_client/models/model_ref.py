from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.model_ref_task import ModelRefTask, check_model_ref_task
from ..types import UNSET, Unset

T = TypeVar("T", bound="ModelRef")


@_attrs_define
class ModelRef:
    """
    Attributes:
        classes (list[str]):
        name (str):
        task (ModelRefTask):
        version (int):
        rest_class (None | str | Unset): The class meaning 'no expression on this face' (micro: neutral; masked: none,
            no masked expression); null for models without one (v1).
    """

    classes: list[str]
    name: str
    task: ModelRefTask
    version: int
    rest_class: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        classes = self.classes

        name = self.name

        task: str = self.task

        version = self.version

        rest_class: None | str | Unset
        if isinstance(self.rest_class, Unset):
            rest_class = UNSET
        else:
            rest_class = self.rest_class

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "classes": classes,
                "name": name,
                "task": task,
                "version": version,
            }
        )
        if rest_class is not UNSET:
            field_dict["rest_class"] = rest_class

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        classes = cast(list[str], d.pop("classes"))

        name = d.pop("name")

        task = check_model_ref_task(d.pop("task"))

        version = d.pop("version")

        def _parse_rest_class(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        rest_class = _parse_rest_class(d.pop("rest_class", UNSET))

        model_ref = cls(
            classes=classes,
            name=name,
            task=task,
            version=version,
            rest_class=rest_class,
        )

        model_ref.additional_properties = d
        return model_ref

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
