from typing import Literal

ModelInfoArch = Literal["cnn", "efficientnetb0", "inceptionv3", "resnet50", "vgg16", "vgg19"]

MODEL_INFO_ARCH_VALUES: set[ModelInfoArch] = {
    "cnn",
    "efficientnetb0",
    "inceptionv3",
    "resnet50",
    "vgg16",
    "vgg19",
}


def check_model_info_arch(value: str) -> ModelInfoArch:
    if value in MODEL_INFO_ARCH_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {MODEL_INFO_ARCH_VALUES!r}")
