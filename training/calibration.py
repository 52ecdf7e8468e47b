"""Temperature scaling (Guo et al., ICML 2017): one scalar T fitted on held-out training data,
baked into the model as a layer so the exported graph's probabilities are the calibrated ones.

``softmax(z / T)`` equals ``p ** (1 / T)`` renormalised for ``p = softmax(z)``, so the layer
works on the model's probabilities and the architectures keep their softmax outputs.
"""

from __future__ import annotations

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


def temper(probs: np.ndarray, temperature: float) -> np.ndarray:
    """NumPy twin of :class:`Temperature` (for tests and offline use)."""
    logits = np.log(np.clip(probs, _EPS, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


@keras.saving.register_keras_serializable(package="mmed")
class Temperature(layers.Layer):
    """Probabilities in, tempered probabilities out (``softmax(log p / T)``)."""

    def __init__(self, temperature: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.temperature = float(temperature)

    def call(self, inputs):
        logits = ops.log(ops.clip(inputs, _EPS, 1.0)) / self.temperature
        return ops.softmax(logits, axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "temperature": self.temperature}


def with_temperature(model: keras.Model, temperature: float) -> keras.Model:
    """``model`` followed by a :class:`Temperature` layer (same input, same output shape)."""
    outputs = Temperature(temperature, name="temperature")(model.output)
    return keras.Model(model.input, outputs, name=model.name)
