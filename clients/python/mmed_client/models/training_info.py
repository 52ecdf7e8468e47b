from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TrainingInfo")


@_attrs_define
class TrainingInfo:
    """
    Attributes:
        dataset (str):
        epochs (int):
        image_count (int):
        seed (int):
        split (str):
        subjects (int):
    """

    dataset: str
    epochs: int
    image_count: int
    seed: int
    split: str
    subjects: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        dataset = self.dataset

        epochs = self.epochs

        image_count = self.image_count

        seed = self.seed

        split = self.split

        subjects = self.subjects

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "dataset": dataset,
                "epochs": epochs,
                "image_count": image_count,
                "seed": seed,
                "split": split,
                "subjects": subjects,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        dataset = d.pop("dataset")

        epochs = d.pop("epochs")

        image_count = d.pop("image_count")

        seed = d.pop("seed")

        split = d.pop("split")

        subjects = d.pop("subjects")

        training_info = cls(
            dataset=dataset,
            epochs=epochs,
            image_count=image_count,
            seed=seed,
            split=split,
            subjects=subjects,
        )

        training_info.additional_properties = d
        return training_info

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
