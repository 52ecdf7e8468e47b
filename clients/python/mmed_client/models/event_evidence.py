from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.event_evidence_signal import EventEvidenceSignal, check_event_evidence_signal

if TYPE_CHECKING:
    from ..models.event_evidence_motion import EventEvidenceMotion


T = TypeVar("T", bound="EventEvidence")


@_attrs_define
class EventEvidence:
    """What made the spotter report an event, with the numbers a reviewer can check.

    Attributes:
        baseline_label (None | str): The label the person's resting face (baseline) gets from the model.
        motion (EventEvidenceMotion): Per region: LBP chi-squared distance from the baseline face at the apex, as a
            multiple of the recording's median.
        probability_change (float): Total-variation distance of the apex probabilities from the baseline (0-1).
        region (str): The face region (brow, eyes, mouth) whose texture changed most at the apex.
        score (float): Peak combined score (1.0 = the detection threshold).
        signal (EventEvidenceSignal): The signal that contributed most to the event's peak score.
    """

    baseline_label: None | str
    motion: EventEvidenceMotion
    probability_change: float
    region: str
    score: float
    signal: EventEvidenceSignal
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        baseline_label: None | str
        baseline_label = self.baseline_label

        motion = self.motion.to_dict()

        probability_change = self.probability_change

        region = self.region

        score = self.score

        signal: str = self.signal

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "baseline_label": baseline_label,
                "motion": motion,
                "probability_change": probability_change,
                "region": region,
                "score": score,
                "signal": signal,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_evidence_motion import EventEvidenceMotion  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_baseline_label(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        baseline_label = _parse_baseline_label(d.pop("baseline_label"))

        motion = EventEvidenceMotion.from_dict(d.pop("motion"))

        probability_change = d.pop("probability_change")

        region = d.pop("region")

        score = d.pop("score")

        signal = check_event_evidence_signal(d.pop("signal"))

        event_evidence = cls(
            baseline_label=baseline_label,
            motion=motion,
            probability_change=probability_change,
            region=region,
            score=score,
            signal=signal,
        )

        event_evidence.additional_properties = d
        return event_evidence

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
