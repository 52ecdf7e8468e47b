"""The smile gate: a masked expression needs a smiling lower face.

A masked model reads the upper face only (a smile hides anger or sadness; the eyes and brows
carry the signal, the mouth is ignored), so on its own it cannot tell a smile hiding anger
from anger without a smile: it gave a masked label to 10 % of held-out angry FER+ faces that
did not smile at all (docs/model-card.md, "The smile gate"). The gate reads whether the face
smiles from a full-face model (the micro model's ``happiness`` class, calibrated) and
combines the two as independent parts of one face:

    P(masked c) = P(smile) * P(c | upper face)
    P(none)     = 1 - P(smile) * (1 - P(none | upper face))

so a masked label needs both a smile and an angry or sad upper face, the probabilities still
sum to 1 and the label rule (arg-max) is unchanged. It applies to every model whose card has
``task: masked`` and a rest class; ``Settings.smile_gate`` names the full-face model ("" off).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model_artifact import ModelVersion
from service.faces import FaceBox, crop_face
from service.schemas import GateRef

log = logging.getLogger("mmed.gate")

SMILE_CLASS = "happiness"


@dataclass(frozen=True)
class SmileGate:
    """Gates one masked model's probabilities by a full-face model's smile probability."""

    model: ModelVersion  # the full-face model the smile is read from
    smile: int  # index of its smile class
    rest: int  # index of the masked model's rest class (``none``)

    def crop(self, grey: np.ndarray, box: FaceBox | None) -> np.ndarray:
        """The full-face input of the gate's model (the model-input function of its card)."""
        card = self.model.card
        return crop_face(grey, box, card.face_region, (card.input.height, card.input.width))

    def apply(self, probs: np.ndarray, gate_probs: np.ndarray) -> np.ndarray:
        """float32 [N, K]: ``probs`` [N, K] of the masked model gated by ``gate_probs``'s
        smile column [N, K']."""
        smile = np.clip(gate_probs[:, self.smile].astype(np.float64), 0.0, 1.0)[:, None]
        out = probs.astype(np.float64) * smile
        out[:, self.rest] = 1.0 - smile[:, 0] * (1.0 - probs[:, self.rest])
        return out.astype(np.float32)

    def ref(self) -> GateRef:
        """What the answer says about the gate (``model.gate``)."""
        return GateRef(model=self.model.name, version=self.model.version, smile_class=SMILE_CLASS)


Gates = Callable[[ModelVersion], SmileGate | None]


def pinned_gate(
    get: Callable[[str, int], ModelVersion], model: ModelVersion, ref: dict | None
) -> SmileGate | None:
    """The gate ``ref`` recorded (a ``GateRef`` as JSON; None: ungated) for ``model``, at the
    very version it names: a job resumed after a new gate version arrived goes on with the
    gate it started with. ``get(name, version)`` raises when that version is gone."""
    if ref is None or model.card.rest_class is None:
        return None
    full = get(ref["model"], int(ref["version"]))
    rest = list(model.card.classes).index(model.card.rest_class)
    return SmileGate(full, list(full.card.classes).index(ref["smile_class"]), rest)


def smile_gates(lookup: Callable[[str], ModelVersion], name: str) -> Gates:
    """``model -> SmileGate | None``: the gate for masked models with a rest class, reading
    the smile from the default version of ``name`` (``lookup(name)``, e.g. the catalogue's
    ``get``); None for other models, when ``name`` is empty, or when that model is missing or
    has no ``happiness`` class (logged once per model and reason: the masked answers are then
    ungated, and say so)."""
    warned: set[tuple[str, str]] = set()

    def warn_once(model: str, message: str) -> None:
        if (model, message) not in warned:
            warned.add((model, message))
            log.warning("%s", message)

    def gate_for(model: ModelVersion) -> SmileGate | None:
        card = model.card
        if not name or card.task != "masked" or card.rest_class is None:
            return None
        try:
            full = lookup(name)
        except (LookupError, OSError, ValueError) as exc:  # missing or unreadable: ungated
            warn_once(model.name, f"smile gate {name!r} unavailable for {model.name}: {exc}")
            return None
        classes = list(full.card.classes)
        if SMILE_CLASS not in classes or full.card.face_region != "full":
            warn_once(model.name, f"smile gate {name} has no full-face {SMILE_CLASS!r} class")
            return None
        rest = list(card.classes).index(card.rest_class)
        return SmileGate(full, classes.index(SMILE_CLASS), rest)

    return gate_for
