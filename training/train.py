"""Fitting: Adam + sparse categorical cross-entropy as in the paper, plus optional augmentation,
class weights, early stopping on a validation split of *training* subjects and a plateau
learning-rate schedule."""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from sklearn.utils.class_weight import compute_class_weight


@dataclass(frozen=True)
class FitOptions:
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 1e-3
    augment: bool = True
    class_weights: bool = False
    early_stopping: int = 0  # patience in epochs; 0 = off (train all epochs)
    reduce_lr: int = 0  # plateau patience in epochs; 0 = off
    cosine: bool = False  # cosine-decay the learning rate to 0 over the epochs
    verbose: int | str = "auto"
    # XLA: compiling the deep backbones takes longer than a short CPU run saves.
    jit_compile: bool = False
    # Eager steps skip tracing the training graph: faster for a couple of tiny batches (tests).
    run_eagerly: bool = False


def augmenter(seed: int) -> keras.Sequential:
    """Small geometric and photometric jitter, mild enough to keep expressions intact."""
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(0.04, fill_mode="nearest", seed=seed + 1),
            keras.layers.RandomTranslation(0.06, 0.06, fill_mode="nearest", seed=seed + 2),
            keras.layers.RandomZoom(0.08, fill_mode="nearest", seed=seed + 3),
            keras.layers.RandomContrast(0.2, value_range=(0, 255), seed=seed + 4),
        ],
        name="augment",
    )


def _dataset(
    images: np.ndarray, labels: np.ndarray, batch: int, seed: int, shuffle: bool, augment: bool
) -> tf.data.Dataset:
    x = images.astype("float32")[..., None] if images.ndim == 3 else images.astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((x, labels.astype("int32")))
    if shuffle:
        ds = ds.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch)
    if augment:
        aug = augmenter(seed)
        ds = ds.map(
            lambda a, b: (tf.clip_by_value(aug(a, training=True), 0.0, 255.0), b),
            num_parallel_calls=1,
        )
    return ds.prefetch(2)


def balanced_class_weights(labels: np.ndarray, num_classes: int) -> dict[int, float]:
    """scikit-learn's ``balanced`` weights; absent classes get weight 1."""
    present = np.unique(labels)
    weights = compute_class_weight("balanced", classes=present, y=labels)
    out = dict.fromkeys(range(num_classes), 1.0)
    out.update({int(c): float(w) for c, w in zip(present, weights, strict=True)})
    return out


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray] | None,
    options: FitOptions,
    seed: int,
) -> dict[str, list[float]]:
    """Compile and fit ``model`` in place; return the Keras history (restored to the best epoch
    when early stopping is on)."""
    x, y = train
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = options.learning_rate
    if options.cosine:
        steps = options.epochs * int(np.ceil(len(y) / options.batch_size))
        learning_rate = keras.optimizers.schedules.CosineDecay(options.learning_rate, steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=options.jit_compile,
        run_eagerly=options.run_eagerly,
    )
    callbacks: list[keras.callbacks.Callback] = []
    if val is not None and options.early_stopping:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=options.early_stopping, restore_best_weights=True
            )
        )
    if val is not None and options.reduce_lr and not options.cosine:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss", factor=0.5, patience=options.reduce_lr, min_lr=1e-5
            )
        )
    num_classes = int(model.output_shape[-1])
    history = model.fit(
        _dataset(x, y, options.batch_size, seed, shuffle=True, augment=options.augment),
        validation_data=(
            _dataset(val[0], val[1], options.batch_size, seed, shuffle=False, augment=False)
            if val is not None
            else None
        ),
        epochs=options.epochs,
        class_weight=balanced_class_weights(y, num_classes) if options.class_weights else None,
        callbacks=callbacks,
        shuffle=False,  # the tf.data pipeline shuffles (seeded)
        verbose=options.verbose,
    )
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}
