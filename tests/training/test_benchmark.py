"""``python -m training all`` (what ``make models`` runs), on tiny data and one architecture."""

from __future__ import annotations

import json

import pytest

from model_artifact import ModelRepository
from training import benchmark
from training.cli import main

pytestmark = pytest.mark.slow  # trains and exports every architecture for both tasks


def test_all_exports_both_tasks_and_writes_the_card(make_image_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(benchmark, "CNN_SPREAD_SEEDS", (0, 1))
    monkeypatch.setattr(benchmark, "CV_FOLDS", 2)
    data = make_image_folder(
        ["anger", "contempt", "disgust", "happiness", "sadness"], subjects=5, per_subject=1
    )
    repo, card, runs = tmp_path / "repo", tmp_path / "model-card.md", tmp_path / "runs"
    argv = ["all", "--data", str(data), "--repository", str(repo), "--card", str(card)]
    assert main([*argv, "--archs", "cnn", "--epochs", "1", "--runs", str(runs)]) == 0

    cards = {mv.name: mv.card for mv in ModelRepository(repo).latest()}
    assert set(cards) == {"micro-cnn", "masked-cnn"}
    assert cards["masked-cnn"].face_region == "upper"
    results = json.loads((runs / "results.json").read_text())
    assert [(r["task"], r["arch"]) for r in results["rows"]] == [
        ("micro", "cnn"),
        ("masked", "cnn"),
    ]
    assert len(results["cnn_spread"]["micro"]["per_seed"]) == 2

    text = card.read_text()
    micro = cards["micro-cnn"].metrics
    row = next(line for line in text.splitlines() if line.startswith("| micro | cnn | 48 px |"))
    assert f"| {100 * micro.accuracy:.1f} %" in row and f"| {micro.macro_f1:.3f} |" in row
    collapsed = results["rows"][0]["classes_predicted"] == 1
    assert (" † |" in row) == collapsed
    assert "| micro | resnet50 | 64 px | not run |" in text  # honest about what did not run
    assert "subject-independent" in text and "No ImageNet weights" in text
    assert "25 images of 5 subjects" in text

    # the card can be re-rendered from the stored results, without training
    card.unlink()
    none = str(tmp_path / "no-stored-results")  # the default, docs/results, would add its block
    assert main(["card", "--runs", str(runs), "--card", str(card), "--results", none]) == 0
    assert card.read_text() == text
