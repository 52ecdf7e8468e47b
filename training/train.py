"""Fitting: Adam + categorical cross-entropy as in the paper, plus optional augmentation, class
weights, soft targets (e.g. FER+ vote distributions), early stopping on a validation split of
*training* subjects and a plateau or cosine learning-rate schedule."""

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
    # "light": the paper-era jitter for tight CK+ crops; "framing": also the spread of framings
    # a face detector gives on other people's faces (±15 % zoom, ±10 % shift, ±11° rotation,
    # ±30 % contrast, ±15 % brightness).
    augment_policy: str = "light"
    class_weights: bool = False
    # Class weight = balanced weight ** power (1 = sklearn "balanced"; 0.5 tempers it for
    # classes 70x rarer than the largest, as FER+ contempt/disgust are).
    class_weight_power: float = 1.0
    soft_labels: bool = False  # train on the dataset's soft targets where it has them
    early_stopping: int = 0  # patience in epochs; 0 = off (train all epochs)
    reduce_lr: int = 0  # plateau patience in epochs; 0 = off
    cosine: bool = False  # cosine-decay the learning rate to 0 over the epochs
    verbose: int | str = "auto"
    # XLA: compiling the deep backbones takes longer than a short CPU run saves.
    jit_compile: bool = False
    # Eager steps skip tracing the training graph: faster for a couple of tiny batches (tests).
    run_eagerly: bool = False


def augmenter(seed: int, policy: str = "light") -> keras.Sequential:
    """Geometric and photometric jitter, mild enough to keep expressions intact."""
    if policy == "framing":
        return keras.Sequential(
            [
                keras.layers.RandomFlip("horizontal", seed=seed),
                keras.layers.RandomRotation(0.03, fill_mode="nearest", seed=seed + 1),
                keras.layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed + 2),
                keras.layers.RandomZoom((-0.15, 0.15), fill_mode="nearest", seed=seed + 3),
                keras.layers.RandomContrast(0.3, value_range=(0, 255), seed=seed + 4),
                keras.layers.RandomBrightness(0.15, value_range=(0, 255), seed=seed + 5),
            ],
            name="augment",
        )
    if policy != "light":
        raise ValueError(f"unknown augmentation policy {policy!r} (light | framing)")
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
    images: np.ndarray,
    targets: np.ndarray,
    batch: int,
    seed: int,
    shuffle: bool,
    augment: bool,
    weights: np.ndarray | None = None,
    policy: str = "light",
) -> tf.data.Dataset:
    """(image, one-hot/soft target[, sample weight]) batches; ``targets`` is ``[N, K]``."""
    x = images.astype("float32")[..., None] if images.ndim == 3 else images.astype("float32")
    parts: tuple[np.ndarray, ...] = (x, targets.astype("float32"))
    if weights is not None:
        parts = (*parts, weights.astype("float32"))
    ds = tf.data.Dataset.from_tensor_slices(parts)
    if shuffle:
        ds = ds.shuffle(len(targets), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch)
    if augment:
        aug = augmenter(seed, policy)
        ds = ds.map(
            lambda a, *rest: (tf.clip_by_value(aug(a, training=True), 0.0, 255.0), *rest),
            num_parallel_calls=1,
        )
    return ds.prefetch(2)


def balanced_class_weights(
    labels: np.ndarray, num_classes: int, power: float = 1.0
) -> dict[int, float]:
    """scikit-learn's ``balanced`` weights raised to ``power``; absent classes get weight 1."""
    present = np.unique(labels)
    weights = compute_class_weight("balanced", classes=present, y=labels) ** power
    out = dict.fromkeys(range(num_classes), 1.0)
    out.update({int(c): float(w) for c, w in zip(present, weights, strict=True)})
    return out


def fit(
    model: keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray] | None,
    options: FitOptions,
    seed: int,
    targets: np.ndarray | None = None,
) -> dict[str, list[float]]:
    """Compile and fit ``model`` in place; return the Keras history (restored to the best epoch
    when early stopping is on). ``targets`` ``[N, K]`` replaces the one-hot labels of ``train``
    (soft labels); class weights always follow the hard labels."""
    x, y = train
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = options.learning_rate
    if options.cosine:
        steps = options.epochs * int(np.ceil(len(y) / options.batch_size))
        learning_rate = keras.optimizers.schedules.CosineDecay(options.learning_rate, steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="categorical_crossentropy",
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
    eye = np.eye(num_classes, dtype=np.float32)
    weights = None
    if options.class_weights:
        table = balanced_class_weights(y, num_classes, options.class_weight_power)
        weights = np.asarray([table[int(c)] for c in y], dtype=np.float32)
    history = model.fit(
        _dataset(
            x,
            eye[y] if targets is None else targets,
            options.batch_size,
            seed,
            shuffle=True,
            augment=options.augment,
            weights=weights,
            policy=options.augment_policy,
        ),
        validation_data=(
            _dataset(val[0], eye[val[1]], options.batch_size, seed, shuffle=False, augment=False)
            if val is not None
            else None
        ),
        epochs=options.epochs,
        callbacks=callbacks,
        shuffle=False,  # the tf.data pipeline shuffles (seeded)
        verbose=options.verbose,
    )
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}
