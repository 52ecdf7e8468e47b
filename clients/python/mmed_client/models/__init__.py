"""Contains all the data models used in inputs/outputs"""

from .body_predict_v1_predict_post import BodyPredictV1PredictPost
from .body_submit_v1_jobs_post import BodySubmitV1JobsPost
from .class_metrics import ClassMetrics
from .event import Event
from .event_evidence import EventEvidence
from .event_evidence_motion import EventEvidenceMotion
from .event_evidence_signal import EventEvidenceSignal
from .event_kind import EventKind
from .face import Face
from .frame_result import FrameResult
from .frame_result_probabilities_type_0 import FrameResultProbabilitiesType0
from .gate_ref import GateRef
from .health import Health
from .health_status import HealthStatus
from .input_spec import InputSpec
from .job import Job
from .job_list import JobList
from .job_parameters import JobParameters
from .job_parameters_task import JobParametersTask
from .job_progress import JobProgress
from .job_result import JobResult
from .job_status import JobStatus
from .media_summary import MediaSummary
from .media_summary_kind import MediaSummaryKind
from .metrics import Metrics
from .metrics_per_class import MetricsPerClass
from .model_info import ModelInfo
from .model_info_arch import ModelInfoArch
from .model_info_face_region import ModelInfoFaceRegion
from .model_info_status import ModelInfoStatus
from .model_info_task import ModelInfoTask
from .model_list import ModelList
from .model_ref import ModelRef
from .model_ref_task import ModelRefTask
from .predict_response import PredictResponse
from .predict_v1_predict_post_task_type_0 import PredictV1PredictPostTaskType0
from .problem import Problem
from .submit_v1_jobs_post_task_type_0 import SubmitV1JobsPostTaskType0
from .summary import Summary
from .summary_label_counts import SummaryLabelCounts
from .summary_mean_probabilities_type_0 import SummaryMeanProbabilitiesType0
from .timing import Timing
from .training_info import TrainingInfo

__all__ = (
    "BodyPredictV1PredictPost",
    "BodySubmitV1JobsPost",
    "ClassMetrics",
    "Event",
    "EventEvidence",
    "EventEvidenceMotion",
    "EventEvidenceSignal",
    "EventKind",
    "Face",
    "FrameResult",
    "FrameResultProbabilitiesType0",
    "GateRef",
    "Health",
    "HealthStatus",
    "InputSpec",
    "Job",
    "JobList",
    "JobParameters",
    "JobParametersTask",
    "JobProgress",
    "JobResult",
    "JobStatus",
    "MediaSummary",
    "MediaSummaryKind",
    "Metrics",
    "MetricsPerClass",
    "ModelInfo",
    "ModelInfoArch",
    "ModelInfoFaceRegion",
    "ModelInfoStatus",
    "ModelInfoTask",
    "ModelList",
    "ModelRef",
    "ModelRefTask",
    "PredictResponse",
    "PredictV1PredictPostTaskType0",
    "Problem",
    "SubmitV1JobsPostTaskType0",
    "Summary",
    "SummaryLabelCounts",
    "SummaryMeanProbabilitiesType0",
    "Timing",
    "TrainingInfo",
)
