"""Temperature scaling (Guo et al., ICML 2017): one scalar T fitted on held-out training data,
baked into the model as a layer so the exported graph's probabilities are the calibrated ones.
Bias-corrected temperature scaling (BCTS, Alexandari et al., ICML 2020) also fits one offset
per class: it undoes the prior shift that class weights introduce (a balanced-weight model
over-predicts rare classes), so the rest class regains its real share.
A rest-class decision offset (the v4 recipe, ``temperature-rest``): after the temperature, one
offset on the rest class's logit (``neutral``), chosen on the validation split to maximise
macro-F1 while the rest class keeps a stated recall — a prior correction where a model calls
too many expressions neutral (or too few).

``softmax(z / T)`` equals ``p ** (1 / T)`` renormalised for ``p = softmax(z)``, so the layer
works on the model's probabilities and the architectures keep their softmax outputs.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops
from scipy.optimize import minimize_scalar

_EPS = 1e-7


def nll(probs: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of ``labels`` under ``probs`` tempered by ``temperature``."""
    logits = np.log(np.clip(probs, _EPS, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(logits).sum(axis=1))
    return float(np.mean(log_z - logits[np.arange(len(labels)), labels]))


def fit_temperature(probs: np.ndarray, labels: np.ndarray) -> float:
    """The T in [0.05, 20] minimising the validation NLL (bounded 1-D search)."""
    labels = np.asarray(labels, dtype=int)
    res = minimize_scalar(
        lambda log_t: nll(probs, labels, float(np.exp(log_t))),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return float(np.exp(res.x))


def temper(probs: np.ndarray, temperature: float, bias: np.ndarray | None = None) -> np.ndarray:
    """NumPy twin of :class:`Temperature` (for tests and offline use)."""
    logits = np.log(np.clip(probs, _EPS, 1.0)) / temperature
    if bias is not None:
        logits = logits + np.asarray(bias)
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def fit_bias_temperature(probs: np.ndarray, labels: np.ndarray) -> tuple[float, list[float]]:
    """BCTS: ``(T, b)`` minimising the validation NLL of ``softmax(log p / T + b)``."""
    from scipy.optimize import minimize

    labels = np.asarray(labels, dtype=int)
    k = probs.shape[1]
    logp = np.log(np.clip(probs, _EPS, 1.0))
    onehot = np.eye(k)[labels]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        inv_t, b = np.exp(theta[0]), theta[1:]
        z = logp * inv_t + b
        z -= z.max(axis=1, keepdims=True)
        q = np.exp(z)
        q /= q.sum(axis=1, keepdims=True)
        value = -np.mean(np.sum(onehot * np.log(np.clip(q, 1e-12, 1.0)), axis=1))
        diff = (q - onehot) / len(labels)
        grad = np.concatenate([[np.sum(diff * logp) * inv_t], diff.sum(axis=0)])
        return float(value), grad

    res = minimize(loss, np.zeros(k + 1), jac=True, method="L-BFGS-B")
    bias = res.x[1:] - res.x[1:].mean()  # softmax is shift-invariant: centre the offsets
    return float(np.exp(-res.x[0])), [float(v) for v in bias]


def fit_rest_offset(
    probs: np.ndarray,
    labels: np.ndarray,
    rest: int,
    temperature: float = 1.0,
    min_rest_recall: float = 0.0,
    grid: np.ndarray | None = None,
) -> list[float]:
    """The per-class offsets (zero but for class ``rest``) whose ``softmax(log p / T + b)``
    arg-max has the highest macro-F1 on ``labels`` among the offsets that keep the recall of
    class ``rest`` at least ``min_rest_recall`` (e.g. the issue's 0.85 neutral target); ties go
    to the offset nearest 0."""
    from sklearn.metrics import f1_score

    labels = np.asarray(labels, dtype=int)
    k = probs.shape[1]
    logits = np.log(np.clip(probs, _EPS, 1.0)) / temperature
    grid = np.round(np.arange(-3.0, 3.0001, 0.05), 2) if grid is None else grid
    is_rest = labels == rest
    best, best_f1 = 0.0, -1.0
    for offset in sorted(grid, key=abs):
        z = logits.copy()
        z[:, rest] += offset
        pred = z.argmax(1)
        if is_rest.any() and np.mean(pred[is_rest] == rest) < min_rest_recall:
            continue
        f1 = f1_score(labels, pred, labels=range(k), average="macro", zero_division=0)
        if f1 > best_f1 + 1e-9:
            best, best_f1 = float(offset), float(f1)
    bias = [0.0] * k
    bias[rest] = best
    return bias


@keras.saving.register_keras_serializable(package="mmed")
class Temperature(layers.Layer):
    """Probabilities in, tempered probabilities out (``softmax(log p / T)``)."""

    def __init__(self, temperature: float, bias: list[float] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.temperature = float(temperature)
        self.bias = None if bias is None else [float(v) for v in bias]

    def call(self, inputs):
        logits = ops.log(ops.clip(inputs, _EPS, 1.0)) / self.temperature
        if self.bias is not None:
            logits = logits + ops.convert_to_tensor(self.bias, dtype=logits.dtype)
        return ops.softmax(logits, axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "temperature": self.temperature, "bias": self.bias}


def without_temperature(model: keras.Model) -> keras.Model:
    """``model`` without a trailing :class:`Temperature` layer (itself when there is none)."""
    last = model.layers[-1]
    if not isinstance(last, Temperature):
        return model
    return keras.Model(model.input, last.input, name=model.name)


def with_temperature(
    model: keras.Model, temperature: float, bias: list[float] | None = None
) -> keras.Model:
    """``model`` followed by a :class:`Temperature` layer (same input, same output shape)."""
    outputs = Temperature(temperature, bias, name="temperature")(model.output)
    return keras.Model(model.input, outputs, name=model.name)
