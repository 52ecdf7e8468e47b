from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.event import Event
    from ..models.frame_result import FrameResult
    from ..models.media_summary import MediaSummary
    from ..models.model_ref import ModelRef
    from ..models.summary import Summary
    from ..models.timing import Timing


T = TypeVar("T", bound="JobResult")


@_attrs_define
class JobResult:
    """The body ``/v1/predict`` would have returned for the whole upload (frames paginated by
    ``offset``/``limit``; ``media.frames_sampled`` is the total; ``events`` as
    ``/v1/predict`` gives them).

        Attributes:
            frames (list[FrameResult]):
            media (MediaSummary):
            model (ModelRef):
            summary (Summary):
            timing_ms (Timing):
            events (list[Event] | None | Unset): Spotted expression events (onset/apex/offset). Computed only for videos
                analysed on every frame (`sample_interval=0`): null for images and for coarser sampling, which cannot see an
                expression lasting a fifth of a second. An empty list means none was found. An event is a change from this
                person's resting face, not a sign of deception.
    """

    frames: list[FrameResult]
    media: MediaSummary
    model: ModelRef
    summary: Summary
    timing_ms: Timing
    events: list[Event] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        frames = []
        for frames_item_data in self.frames:
            frames_item = frames_item_data.to_dict()
            frames.append(frames_item)

        media = self.media.to_dict()

        model = self.model.to_dict()

        summary = self.summary.to_dict()

        timing_ms = self.timing_ms.to_dict()

        events: list[dict[str, Any]] | None | Unset
        if isinstance(self.events, Unset):
            events = UNSET
        elif isinstance(self.events, list):
            events = []
            for events_type_0_item_data in self.events:
                events_type_0_item = events_type_0_item_data.to_dict()
                events.append(events_type_0_item)

        else:
            events = self.events

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "frames": frames,
                "media": media,
                "model": model,
                "summary": summary,
                "timing_ms": timing_ms,
            }
        )
        if events is not UNSET:
            field_dict["events"] = events

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event import Event  # noqa: PLC0415
        from ..models.frame_result import FrameResult  # noqa: PLC0415
        from ..models.media_summary import MediaSummary  # noqa: PLC0415
        from ..models.model_ref import ModelRef  # noqa: PLC0415
        from ..models.summary import Summary  # noqa: PLC0415
        from ..models.timing import Timing  # noqa: PLC0415

        d = dict(src_dict)
        frames = []
        _frames = d.pop("frames")
        for frames_item_data in _frames:
            frames_item = FrameResult.from_dict(frames_item_data)

            frames.append(frames_item)

        media = MediaSummary.from_dict(d.pop("media"))

        model = ModelRef.from_dict(d.pop("model"))

        summary = Summary.from_dict(d.pop("summary"))

        timing_ms = Timing.from_dict(d.pop("timing_ms"))

        def _parse_events(data: object) -> list[Event] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                events_type_0 = []
                _events_type_0 = data
                for events_type_0_item_data in _events_type_0:
                    events_type_0_item = Event.from_dict(events_type_0_item_data)

                    events_type_0.append(events_type_0_item)

                return events_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[Event] | None | Unset, data)

        events = _parse_events(d.pop("events", UNSET))

        job_result = cls(
            frames=frames,
            media=media,
            model=model,
            summary=summary,
            timing_ms=timing_ms,
            events=events,
        )

        job_result.additional_properties = d
        return job_result

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
