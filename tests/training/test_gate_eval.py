"""training.gate_eval: the smile gate's held-out figures and their card table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model_artifact import ModelRepository
from training import results
from training.gate_eval import face_sets, render
from training.masked_proxy import compose

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"
STORED = REPO / "docs" / "results" / "gate.json"


def test_the_committed_figures_render_into_the_card() -> None:
    if not STORED.is_file():
        pytest.skip("docs/results/gate.json is not committed")
    result = json.loads(STORED.read_text())
    lines = render(result)
    assert len(lines) == 4 + len(result["sets"])
    for name, row in result["sets"].items():
        for part in ("ungated", "gated"):
            shares = [v for k, v in row[part].items() if k != "masked"]
            assert sum(shares) == pytest.approx(1.0, abs=1e-6)  # every face got one label
        assert row["gated"]["masked"] <= row["ungated"]["masked"] + 1e-9  # the gate only removes
        assert any(line.startswith(f"| {name} |") for line in lines)
    block = results.render_block([], [], STORED.parent)
    assert "### The smile gate (masked answers)" in block


def test_sets_are_built_from_held_out_faces_only() -> None:
    if not (DATA / "ferplus" / "valid").is_dir() or not (DATA / "ckplus5").is_dir():
        pytest.skip(f"CK+ / FER+ data not found under {DATA} (only beside ../shared)")
    masked = ModelRepository(REPO / "model_repository").load("masked-cnn")
    sets = face_sets(DATA, masked)
    fer = DATA / "ferplus" / "valid"
    assert len(sets["FER+ valid neutral"]) == len(list((fer / "neutral").iterdir()))
    assert len(sets["FER+ cross-person PROXY happy_but_angry"]) == len(sets["FER+ valid anger"])
    held = masked.card.model_extra["evaluation"]["held_out_subject_ids"]
    smiles = [p for p in (DATA / "ckplus5" / "happiness").glob("*.png") if p.name[:4] in held]
    assert len(sets["CK+ held-out genuine smiles"]) == len(smiles) > 0
    # A composite keeps the upper face's rows and the smile's lower rows.
    upper, lower = np.zeros((48, 48), np.uint8), np.full((48, 48), 255, np.uint8)
    face = compose(upper, lower)
    assert face[0].max() == 0 and face[-1].min() == 255
