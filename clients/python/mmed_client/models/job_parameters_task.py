from typing import Literal

JobParametersTask = Literal["masked", "micro"]

JOB_PARAMETERS_TASK_VALUES: set[JobParametersTask] = {
    "masked",
    "micro",
}


def check_job_parameters_task(value: str) -> JobParametersTask:
    if value in JOB_PARAMETERS_TASK_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {JOB_PARAMETERS_TASK_VALUES!r}")
