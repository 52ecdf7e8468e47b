from typing import Literal

PredictV1PredictPostTaskType0 = Literal["masked", "micro"]

PREDICT_V1_PREDICT_POST_TASK_TYPE_0_VALUES: set[PredictV1PredictPostTaskType0] = {
    "masked",
    "micro",
}


def check_predict_v1_predict_post_task_type_0(value: str) -> PredictV1PredictPostTaskType0:
    if value in PREDICT_V1_PREDICT_POST_TASK_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PREDICT_V1_PREDICT_POST_TASK_TYPE_0_VALUES!r}")
