from typing import Literal

SubmitV1JobsPostTaskType0 = Literal["masked", "micro"]

SUBMIT_V1_JOBS_POST_TASK_TYPE_0_VALUES: set[SubmitV1JobsPostTaskType0] = {
    "masked",
    "micro",
}


def check_submit_v1_jobs_post_task_type_0(value: str) -> SubmitV1JobsPostTaskType0:
    if value in SUBMIT_V1_JOBS_POST_TASK_TYPE_0_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {SUBMIT_V1_JOBS_POST_TASK_TYPE_0_VALUES!r}")
