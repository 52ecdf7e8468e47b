from typing import Literal

MediaSummaryKind = Literal["image", "video"]

MEDIA_SUMMARY_KIND_VALUES: set[MediaSummaryKind] = {
    "image",
    "video",
}


def check_media_summary_kind(value: str) -> MediaSummaryKind:
    if value in MEDIA_SUMMARY_KIND_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {MEDIA_SUMMARY_KIND_VALUES!r}")
