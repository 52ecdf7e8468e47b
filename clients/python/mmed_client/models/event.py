from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.event_kind import EventKind, check_event_kind

if TYPE_CHECKING:
    from ..models.event_evidence import EventEvidence


T = TypeVar("T", bound="Event")


@_attrs_define
class Event:
    """A spotted expression: a brief change from the person's own resting face and back.

    Attributes:
        apex_index (int): `frames[].index` of the frame of greatest change.
        apex_s (float):
        confidence (float): The model's probability of `label` at the apex.
        evidence (EventEvidence): What made the spotter report an event, with the numbers a reviewer can check.
        kind (EventKind): micro: onset to offset lasts at most 0.5 s (MEGC's bound); macro: longer.
        label (str): The class that rose most above the baseline (never the rest class).
        offset_index (int): `frames[].index` of the last frame (inclusive).
        offset_s (float):
        onset_index (int): `frames[].index` of the first frame of the event.
        onset_s (float):
    """

    apex_index: int
    apex_s: float
    confidence: float
    evidence: EventEvidence
    kind: EventKind
    label: str
    offset_index: int
    offset_s: float
    onset_index: int
    onset_s: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        apex_index = self.apex_index

        apex_s = self.apex_s

        confidence = self.confidence

        evidence = self.evidence.to_dict()

        kind: str = self.kind

        label = self.label

        offset_index = self.offset_index

        offset_s = self.offset_s

        onset_index = self.onset_index

        onset_s = self.onset_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "apex_index": apex_index,
                "apex_s": apex_s,
                "confidence": confidence,
                "evidence": evidence,
                "kind": kind,
                "label": label,
                "offset_index": offset_index,
                "offset_s": offset_s,
                "onset_index": onset_index,
                "onset_s": onset_s,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_evidence import EventEvidence  # noqa: PLC0415

        d = dict(src_dict)
        apex_index = d.pop("apex_index")

        apex_s = d.pop("apex_s")

        confidence = d.pop("confidence")

        evidence = EventEvidence.from_dict(d.pop("evidence"))

        kind = check_event_kind(d.pop("kind"))

        label = d.pop("label")

        offset_index = d.pop("offset_index")

        offset_s = d.pop("offset_s")

        onset_index = d.pop("onset_index")

        onset_s = d.pop("onset_s")

        event = cls(
            apex_index=apex_index,
            apex_s=apex_s,
            confidence=confidence,
            evidence=evidence,
            kind=kind,
            label=label,
            offset_index=offset_index,
            offset_s=offset_s,
            onset_index=onset_index,
            onset_s=onset_s,
        )

        event.additional_properties = d
        return event

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
