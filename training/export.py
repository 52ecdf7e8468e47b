"""Export a trained Keras model into a model repository (DESIGN §1).

Writes ``<repo>/<name>/<version>/`` with a ``serving_default`` signature (uint8 ``image``
``[None, H, W, 1]`` → float32 ``probabilities`` ``[None, K]``), ``assets.extra/mmed.json`` and
TF Serving warm-up records, then regenerates the repository's three TF Serving config files.
The version is always new: an export never touches an existing version directory.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from model_artifact import ModelCard, ModelRepository, ModelVersion
from model_artifact.card import INPUT_KEY, OUTPUT_KEY, SIGNATURE
from model_artifact.repository import CARD_PATH, WARMUP_PATH
from model_artifact.serving_config import write_serving_configs

WARMUP_BATCH_SIZES = (1, 8)


def export_model(
    model: keras.Model,
    repository: ModelRepository | Path | str,
    card: dict | ModelCard,
    *,
    base_path: str = "/models",
) -> ModelVersion:
    """Export ``model`` as the next version of ``card['name']``; return the written version.

    ``card`` is the mmed.json content without ``version`` (filled in here) and is validated
    against ``model_artifact.ModelCard`` before anything is written. ``model`` must take raw
    grey pixels ``[H, W, 1]`` (float 0..255) and output softmax probabilities in the order
    of ``card['classes']``.
    """
    repo = repository if isinstance(repository, ModelRepository) else ModelRepository(repository)
    fields = card.model_dump(mode="json") if isinstance(card, ModelCard) else dict(card)
    height, width = int(model.input_shape[1]), int(model.input_shape[2])
    fields["input"] = {"height": height, "width": width, "channels": 1, "dtype": "uint8"}
    name = fields["name"]
    fields["version"] = repo.next_version(name)
    ModelCard.model_validate(fields)  # fail before writing anything
    if int(model.output_shape[-1]) != len(fields["classes"]):
        raise ValueError(
            f"model outputs {model.output_shape[-1]} classes, card lists {len(fields['classes'])}"
        )

    model_dir = repo.root / name
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = model_dir / f".export-{uuid.uuid4().hex}"
    try:
        _write_saved_model(model, staging, height, width)
        extra = staging / CARD_PATH.parent
        extra.mkdir(parents=True, exist_ok=True)
        while True:
            card_obj = ModelCard.model_validate(fields)
            (staging / CARD_PATH).write_text(card_obj.model_dump_json(indent=2) + "\n")
            write_warmup_requests(staging / WARMUP_PATH, name, height, width)
            target = model_dir / str(card_obj.version)
            try:
                # mkdir is atomic: whoever creates the version directory owns that number.
                target.mkdir()
            except FileExistsError:
                fields["version"] = repo.next_version(name)
                continue
            target.rmdir()
            os.rename(staging, target)
            break
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    write_serving_configs(repo, base_path=base_path)
    return repo.load(name, card_obj.version)


def serving_function(model: keras.Model) -> Any:
    """The ``serving_default`` body: uint8 crops → ``{"probabilities": float32 softmax}``."""

    def serve(image: tf.Tensor) -> dict[str, tf.Tensor]:
        probs = model(tf.cast(image, tf.float32), training=False)
        return {OUTPUT_KEY: tf.cast(probs, tf.float32)}

    return serve


def _write_saved_model(model: keras.Model, path: Path, height: int, width: int) -> None:
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        SIGNATURE,
        serving_function(model),
        input_signature=[tf.TensorSpec([None, height, width, 1], tf.uint8, name=INPUT_KEY)],
    )
    archive.write_out(str(path), verbose=False)


def write_warmup_requests(
    path: Path,
    name: str,
    height: int,
    width: int,
    batch_sizes: tuple[int, ...] = WARMUP_BATCH_SIZES,
) -> int:
    """TFRecord of ``PredictionLog`` warm-up requests TF Serving replays on load."""
    from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

    rng = np.random.default_rng(0)
    count = 0
    with tf.io.TFRecordWriter(str(path)) as writer:
        for n in batch_sizes:
            request = predict_pb2.PredictRequest()
            request.model_spec.name = name
            request.model_spec.signature_name = SIGNATURE
            batch = rng.integers(0, 256, size=(n, height, width, 1), dtype=np.uint8)
            request.inputs[INPUT_KEY].CopyFrom(tf.make_tensor_proto(batch))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
            count += 1
    return count


def read_card(version_dir: Path) -> dict:
    """The raw mmed.json of an exported version directory."""
    return json.loads((Path(version_dir) / CARD_PATH).read_text())
