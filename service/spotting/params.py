"""The spotter's fitted thresholds: one committed file, ``params.json`` beside this module.

``{"default": MODEL, "models": {MODEL: {"params": {...}, "fitted": {...}}}}``: one entry per
model the thresholds were fitted with (``training.spot_fit DEV --model M --write
service/spotting/params.json`` writes M's entry, with what it was fitted on and the dev
figures); a model without its own entry uses the ``default`` model's. The service reads the
file once. Fields an entry does not set keep ``SpotParams``' defaults; an unknown field is an
error (a file written by another version of the code).
"""

from __future__ import annotations

import json
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

from service.spotting.spotter import SpotParams

PARAMS_FILE = Path(__file__).with_name("params.json")


def params_from(entry: dict[str, Any]) -> SpotParams:
    """``SpotParams`` from one entry's ``params`` mapping."""
    values = entry.get("params") or {}
    known = {f.name for f in fields(SpotParams)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown spotting parameter(s) {unknown} (known: {sorted(known)})")
    return SpotParams(**values)


def entry_for(doc: dict[str, Any], model: str | None) -> dict[str, Any]:
    """The entry of ``model`` in a params document, else the default model's."""
    models = doc.get("models") or {}
    if model in models:
        return models[model]
    default = doc.get("default")
    if default not in models:
        raise ValueError(f"the spotting thresholds file has no default entry ({default!r})")
    return models[default]


@cache
def fitted_params(model: str | None = None, path: Path = PARAMS_FILE) -> SpotParams:
    """The thresholds fitted for ``model`` (else the default model's), from ``path``."""
    return params_from(entry_for(json.loads(path.read_text()), model))
