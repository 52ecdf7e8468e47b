"""The spotter's fitted thresholds: one committed file, ``params.json`` beside this module.

``training.spot_fit DEV --write service/spotting/params.json`` writes it (the best grid
setting on the development part of the PROXY benchmark, with the model it was fitted with
and the dev figures); the service reads it once. Fields it does not set keep ``SpotParams``'
defaults; an unknown field is an error (a file written by another version of the code).
"""

from __future__ import annotations

import json
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

from service.spotting.spotter import SpotParams

PARAMS_FILE = Path(__file__).with_name("params.json")


def params_from(doc: dict[str, Any]) -> SpotParams:
    """``SpotParams`` from a params document's ``params`` mapping."""
    values = doc.get("params") or {}
    known = {f.name for f in fields(SpotParams)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown spotting parameter(s) {unknown} (known: {sorted(known)})")
    return SpotParams(**values)


@cache
def fitted_params(path: Path = PARAMS_FILE) -> SpotParams:
    """The fitted thresholds of ``path`` (the committed file by default), read once."""
    return params_from(json.loads(path.read_text()))
