from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.model_info_arch import ModelInfoArch, check_model_info_arch
from ..models.model_info_face_region import ModelInfoFaceRegion, check_model_info_face_region
from ..models.model_info_status import ModelInfoStatus, check_model_info_status
from ..models.model_info_task import ModelInfoTask, check_model_info_task
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.input_spec import InputSpec
    from ..models.metrics import Metrics
    from ..models.training_info import TrainingInfo


T = TypeVar("T", bound="ModelInfo")


@_attrs_define
class ModelInfo:
    """A catalogue entry: the model's mmed.json plus its serving status.

    Attributes:
        arch (ModelInfoArch):
        classes (list[str]):
        default_for_task (bool):
        face_region (ModelInfoFaceRegion):
        input_ (InputSpec): Shape of one crop the ``serving_default`` signature takes.
        metrics (Metrics): Held-out figures, as the paper reports them.
        name (str):
        status (ModelInfoStatus): available: the backend can serve it right now.
        task (ModelInfoTask):
        training (TrainingInfo):
        version (int):
        versions (list[int]):
        rest_class (None | str | Unset): The class meaning 'no expression' (neutral / none); null for v1 models.
        runtime (None | str | Unset): What runs this version: the embedded backend's `int8` (the version's int8
            companion), `tflite` or `savedmodel` once it is loaded (null before), `tfserving` (TF Serving, the float
            SavedModel). `tflite`, `savedmodel` and `tfserving` give the same answers (within 1e-4); `int8` within what the
            version's int8.json records.
        variant (None | str | Unset):
    """

    arch: ModelInfoArch
    classes: list[str]
    default_for_task: bool
    face_region: ModelInfoFaceRegion
    input_: InputSpec
    metrics: Metrics
    name: str
    status: ModelInfoStatus
    task: ModelInfoTask
    training: TrainingInfo
    version: int
    versions: list[int]
    rest_class: None | str | Unset = UNSET
    runtime: None | str | Unset = UNSET
    variant: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        arch: str = self.arch

        classes = self.classes

        default_for_task = self.default_for_task

        face_region: str = self.face_region

        input_ = self.input_.to_dict()

        metrics = self.metrics.to_dict()

        name = self.name

        status: str = self.status

        task: str = self.task

        training = self.training.to_dict()

        version = self.version

        versions = self.versions

        rest_class: None | str | Unset
        if isinstance(self.rest_class, Unset):
            rest_class = UNSET
        else:
            rest_class = self.rest_class

        runtime: None | str | Unset
        if isinstance(self.runtime, Unset):
            runtime = UNSET
        else:
            runtime = self.runtime

        variant: None | str | Unset
        if isinstance(self.variant, Unset):
            variant = UNSET
        else:
            variant = self.variant

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "arch": arch,
                "classes": classes,
                "default_for_task": default_for_task,
                "face_region": face_region,
                "input": input_,
                "metrics": metrics,
                "name": name,
                "status": status,
                "task": task,
                "training": training,
                "version": version,
                "versions": versions,
            }
        )
        if rest_class is not UNSET:
            field_dict["rest_class"] = rest_class
        if runtime is not UNSET:
            field_dict["runtime"] = runtime
        if variant is not UNSET:
            field_dict["variant"] = variant

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.input_spec import InputSpec  # noqa: PLC0415
        from ..models.metrics import Metrics  # noqa: PLC0415
        from ..models.training_info import TrainingInfo  # noqa: PLC0415

        d = dict(src_dict)
        arch = check_model_info_arch(d.pop("arch"))

        classes = cast(list[str], d.pop("classes"))

        default_for_task = d.pop("default_for_task")

        face_region = check_model_info_face_region(d.pop("face_region"))

        input_ = InputSpec.from_dict(d.pop("input"))

        metrics = Metrics.from_dict(d.pop("metrics"))

        name = d.pop("name")

        status = check_model_info_status(d.pop("status"))

        task = check_model_info_task(d.pop("task"))

        training = TrainingInfo.from_dict(d.pop("training"))

        version = d.pop("version")

        versions = cast(list[int], d.pop("versions"))

        def _parse_rest_class(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        rest_class = _parse_rest_class(d.pop("rest_class", UNSET))

        def _parse_runtime(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        runtime = _parse_runtime(d.pop("runtime", UNSET))

        def _parse_variant(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        variant = _parse_variant(d.pop("variant", UNSET))

        model_info = cls(
            arch=arch,
            classes=classes,
            default_for_task=default_for_task,
            face_region=face_region,
            input_=input_,
            metrics=metrics,
            name=name,
            status=status,
            task=task,
            training=training,
            version=version,
            versions=versions,
            rest_class=rest_class,
            runtime=runtime,
            variant=variant,
        )

        model_info.additional_properties = d
        return model_info

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
