"""Request names shared by the locustfile and the runner (which must not import Locust)."""

SHED_SUFFIX = " [shed]"
PREDICT_IMAGE_MICRO = "predict image (micro)"
PREDICT_IMAGE_MASKED = "predict image (masked)"
PREDICT_VIDEO = "predict video 3 s (micro)"
MODELS_LIST = "GET /v1/models"
MODELS_ONE = "GET /v1/models/{name}"
IMAGE_UPLOADS = [PREDICT_IMAGE_MICRO, PREDICT_IMAGE_MASKED]
JOB_SUBMIT = "POST /v1/jobs (video 3 s, every frame)"
JOB_STATUS = "GET /v1/jobs/{id}"
JOB_RESULT = "GET /v1/jobs/{id}/result"
JOB_DELETE = "DELETE /v1/jobs/{id}"
JOB_NAMES = [JOB_SUBMIT, JOB_STATUS, JOB_RESULT, JOB_DELETE]
