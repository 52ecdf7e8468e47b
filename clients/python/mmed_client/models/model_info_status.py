from typing import Literal

ModelInfoStatus = Literal["available", "unavailable"]

MODEL_INFO_STATUS_VALUES: set[ModelInfoStatus] = {
    "available",
    "unavailable",
}


def check_model_info_status(value: str) -> ModelInfoStatus:
    if value in MODEL_INFO_STATUS_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {MODEL_INFO_STATUS_VALUES!r}")
