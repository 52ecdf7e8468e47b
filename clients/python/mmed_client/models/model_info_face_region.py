from typing import Literal

ModelInfoFaceRegion = Literal["full", "upper"]

MODEL_INFO_FACE_REGION_VALUES: set[ModelInfoFaceRegion] = {
    "full",
    "upper",
}


def check_model_info_face_region(value: str) -> ModelInfoFaceRegion:
    if value in MODEL_INFO_FACE_REGION_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {MODEL_INFO_FACE_REGION_VALUES!r}")
