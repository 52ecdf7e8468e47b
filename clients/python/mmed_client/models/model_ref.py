from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.model_ref_task import ModelRefTask, check_model_ref_task
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.gate_ref import GateRef


T = TypeVar("T", bound="ModelRef")


@_attrs_define
class ModelRef:
    """
    Attributes:
        classes (list[str]):
        name (str):
        task (ModelRefTask):
        version (int):
        gate (GateRef | None | Unset): Masked models: the smile gate their probabilities went through (P(masked c) =
            P(smile) x P(c | upper face); P(none) takes the rest), null when ungated (micro models, models without a rest
            class, the gate switched off).
        rest_class (None | str | Unset): The class meaning 'no expression on this face' (micro: neutral; masked: none,
            no masked expression); null for models without one (v1).
    """

    classes: list[str]
    name: str
    task: ModelRefTask
    version: int
    gate: GateRef | None | Unset = UNSET
    rest_class: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.gate_ref import GateRef  # noqa: PLC0415

        classes = self.classes

        name = self.name

        task: str = self.task

        version = self.version

        gate: dict[str, Any] | None | Unset
        if isinstance(self.gate, Unset):
            gate = UNSET
        elif isinstance(self.gate, GateRef):
            gate = self.gate.to_dict()
        else:
            gate = self.gate

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
        if gate is not UNSET:
            field_dict["gate"] = gate
        if rest_class is not UNSET:
            field_dict["rest_class"] = rest_class

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.gate_ref import GateRef  # noqa: PLC0415

        d = dict(src_dict)
        classes = cast(list[str], d.pop("classes"))

        name = d.pop("name")

        task = check_model_ref_task(d.pop("task"))

        version = d.pop("version")

        def _parse_gate(data: object) -> GateRef | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                gate_type_0 = GateRef.from_dict(data)

                return gate_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(GateRef | None | Unset, data)

        gate = _parse_gate(d.pop("gate", UNSET))

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
            gate=gate,
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
