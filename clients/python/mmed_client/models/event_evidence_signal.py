from typing import Literal

EventEvidenceSignal = Literal["motion", "probabilities"]

EVENT_EVIDENCE_SIGNAL_VALUES: set[EventEvidenceSignal] = {
    "motion",
    "probabilities",
}


def check_event_evidence_signal(value: str) -> EventEvidenceSignal:
    if value in EVENT_EVIDENCE_SIGNAL_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {EVENT_EVIDENCE_SIGNAL_VALUES!r}")
