from typing import Literal

ModelRefTask = Literal["masked", "micro"]

MODEL_REF_TASK_VALUES: set[ModelRefTask] = {
    "masked",
    "micro",
}


def check_model_ref_task(value: str) -> ModelRefTask:
    if value in MODEL_REF_TASK_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {MODEL_REF_TASK_VALUES!r}")
