from typing import Literal

ModelInfoTask = Literal["masked", "micro"]

MODEL_INFO_TASK_VALUES: set[ModelInfoTask] = {
    "masked",
    "micro",
}


def check_model_info_task(value: str) -> ModelInfoTask:
    if value in MODEL_INFO_TASK_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {MODEL_INFO_TASK_VALUES!r}")
