"""The paper's six architectures, each taking raw grey pixels (float 0..255, ``[H, W, 1]``).

Every model carries its own preprocessing (scaling, grey→RGB, the backbone's normalisation) as
layers, so training feeds raw pixels and the exported ``serving_default`` signature only casts
the uint8 crop: training and serving can never disagree on the arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
from keras import layers, ops

from model_artifact import ARCHS


@dataclass(frozen=True)
class ArchSpec:
    """Default and minimum input size of one architecture (square, pixels)."""

    name: str
    default_size: int
    min_size: int
    description: str


# Sizes: the CNN takes CK+48's native 48 px as in the paper. The ImageNet backbones downsample
# 32x; 64 px leaves them a 2x2 final map at 1.8x the source resolution (more adds compute, not
# information, to 48 px crops). InceptionV3 cannot go below 75 px (Keras' own check).
SPECS: dict[str, ArchSpec] = {
    "cnn": ArchSpec("cnn", 48, 16, "the paper's Table 2 CNN (3 conv/pool blocks, dense 128)"),
    "resnet50": ArchSpec("resnet50", 64, 32, "keras.applications.ResNet50 + new head"),
    "vgg16": ArchSpec("vgg16", 64, 32, "keras.applications.VGG16 + new head"),
    "vgg19": ArchSpec("vgg19", 64, 32, "keras.applications.VGG19 + new head"),
    "inceptionv3": ArchSpec("inceptionv3", 75, 75, "keras.applications.InceptionV3 + new head"),
    "efficientnetb0": ArchSpec(
        "efficientnetb0", 64, 32, "keras.applications.EfficientNetB0 + new head"
    ),
}
assert tuple(SPECS) == ARCHS


class UnknownArchError(ValueError):
    """An architecture name outside ``model_artifact.ARCHS``."""


@keras.saving.register_keras_serializable(package="mmed")
class GreyToRGB(layers.Layer):
    """Repeat a one-channel image into the three channels ImageNet backbones expect."""

    def call(self, inputs):
        return ops.repeat(inputs, 3, axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 3)


@keras.saving.register_keras_serializable(package="mmed")
class BackbonePreprocess(layers.Layer):
    """``keras.applications.<arch>.preprocess_input`` as a layer (RGB input, 0..255)."""

    def __init__(self, arch: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arch = arch
        self._fn = _preprocess_fn(arch)

    def call(self, inputs):
        return self._fn(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "arch": self.arch}


def _preprocess_fn(arch: str) -> Callable:
    apps = keras.applications
    return {
        "resnet50": apps.resnet50.preprocess_input,  # caffe: BGR, ImageNet mean subtracted
        "vgg16": apps.vgg16.preprocess_input,  # caffe
        "vgg19": apps.vgg19.preprocess_input,  # caffe
        "inceptionv3": apps.inception_v3.preprocess_input,  # tf: x / 127.5 - 1
        # EfficientNet rescales and normalises inside the backbone; its preprocess_input is
        # the identity, kept here for symmetry.
        "efficientnetb0": apps.efficientnet.preprocess_input,
    }[arch]


def _backbone(arch: str, shape: tuple[int, int, int], weights: str | None) -> keras.Model:
    apps = keras.applications
    ctor = {
        "resnet50": apps.ResNet50,
        "vgg16": apps.VGG16,
        "vgg19": apps.VGG19,
        "inceptionv3": apps.InceptionV3,
        "efficientnetb0": apps.EfficientNetB0,
    }[arch]
    try:
        return ctor(include_top=False, weights=weights, input_shape=shape)
    except Exception as exc:  # Keras raises ValueError/OSError/URLError depending on the cause
        if weights == "imagenet":
            raise RuntimeError(
                f"cannot load ImageNet weights for {arch}: Keras looks in ~/.keras/models and "
                "otherwise downloads them, which this machine cannot do. Copy the *_notop.h5 "
                "file into ~/.keras/models or pass --weights PATH."
            ) from exc
        raise


def build_model(
    arch: str,
    num_classes: int,
    size: int | None = None,
    weights: str = "none",
    dropout: float = 0.3,
    cnn_width: int = 1,
    cnn_batchnorm: bool = False,
    cnn_depth: int = 1,
) -> keras.Model:
    """A compiled-ready classifier for ``arch``: raw grey ``[size, size, 1]`` → softmax ``[K]``.

    ``weights``: ``none`` (random init), ``imagenet`` (Keras' loader and cache) or a path —
    for a backbone, its no-top weights file; for ``cnn``, a full-model ``.weights.h5``.
    ``cnn_width``/``cnn_batchnorm``: the CNN's filters and dense units times ``cnn_width``,
    with batch normalisation after each convolution and dropout before and after the dense
    layer (the v2 recipe: 28k in-the-wild faces need more capacity than 486 posed ones).
    ``cnn_depth``: convolutions per block (1 = Table 2; 2 = the "deep" layout of the v3 recipe,
    two 3x3 convolutions per block, the second ``same``-padded — a stated deviation from the
    paper for more receptive field at a small cost).
    """
    if arch not in SPECS:
        raise UnknownArchError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    if num_classes < 2:
        raise ValueError("a classifier needs at least two classes")
    spec = SPECS[arch]
    size = size or spec.default_size
    if size < spec.min_size:
        raise ValueError(f"{arch} needs an input of at least {spec.min_size} px, got {size}")
    inputs = keras.Input((size, size, 1), dtype="float32", name="image")
    if arch == "cnn":
        if weights == "imagenet":
            raise ValueError("the paper's CNN has no ImageNet weights; use --weights none|PATH")
        model = _paper_cnn(inputs, num_classes, cnn_width, cnn_batchnorm, depth=cnn_depth)
        if weights not in ("none", None):
            model.load_weights(Path(weights))
        return model
    backbone_weights = None if weights in ("none", None) else weights
    x = GreyToRGB(name="grey_to_rgb")(inputs)
    x = BackbonePreprocess(arch, name="backbone_preprocess")(x)
    x = _backbone(arch, (size, size, 3), backbone_weights)(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=arch)


def _paper_cnn(
    inputs: keras.KerasTensor,
    num_classes: int,
    width: int = 1,
    batchnorm: bool = False,
    dropout: float = 0.4,
    depth: int = 1,
) -> keras.Model:
    """Table 2 of the paper, with a softmax output: 3x(Conv 3x3 relu → MaxPool 2x2), Dense 128
    (``width`` 1, ``depth`` 1, no batch norm); see :func:`build_model` for the options."""
    if width < 1:
        raise ValueError("cnn_width must be at least 1")
    if depth < 1:
        raise ValueError("cnn_depth must be at least 1")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for i, filters in enumerate((16, 32, 64), start=1):
        for j in range(depth):
            # Table 2's layer names for depth 1 (v1/v2 weights keep loading by name).
            name = f"{i}" if j == 0 else f"{i}_{j + 1}"
            x = _conv(x, filters * width, batchnorm, name, "valid" if j == 0 else "same")
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    if batchnorm:
        x = layers.Dropout(dropout, name="flatten_dropout")(x)
    x = layers.Dense(128 * width, activation="relu", name="dense")(x)
    if batchnorm:
        x = layers.Dropout(dropout, name="dense_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


def _conv(
    x: keras.KerasTensor, filters: int, batchnorm: bool, name: str, padding: str
) -> keras.KerasTensor:
    """One 3x3 convolution + relu (with batch norm in between when asked)."""
    if not batchnorm:
        return layers.Conv2D(filters, 3, padding=padding, activation="relu", name=f"conv{name}")(x)
    x = layers.Conv2D(filters, 3, padding=padding, use_bias=False, name=f"conv{name}")(x)
    x = layers.BatchNormalization(name=f"bn{name}")(x)
    return layers.Activation("relu", name=f"relu{name}")(x)
