"""training.peer_scores: fer and us scored alike on the four expressions fer has."""

from __future__ import annotations

import pytest

from training.peer_scores import ours_from_record, render, scores


def test_four_expressions_and_neutral() -> None:
    truth = ["anger", "happiness", "sadness", "neutral", "neutral", "contempt"]
    got = scores(truth, ["anger", None, "neutral", "neutral", "other", "neutral"])
    assert got["images"] == 3 and got["neutral_images"] == 2
    assert got["accuracy"] == pytest.approx(1 / 3)  # not found and neutral count as wrong
    assert got["neutral_rate"] == 0.5 and got["found"] == 5


def test_ours_from_the_stored_confusion_matrix() -> None:
    classes = ["anger", "contempt", "disgust", "happiness", "sadness", "neutral"]
    conf = [[3, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 2], [0] * 6, [0, 0, 0, 4, 0, 0], [0] * 6,
            [0, 0, 0, 1, 0, 3]]  # fmt: skip
    record = {"sets": {"x": {"frame": {"classes": classes, "confusion": conf, "found": 15}}}}
    got = ours_from_record(record, "x")
    assert got["images"] == 8 and got["accuracy"] == pytest.approx(7 / 8)
    assert got["neutral_rate"] == 0.75 and got["found"] == 15
    row = {"fer": got, "ours": got}
    assert "| x | 8 |" in "\n".join(render({"ours": "m v1", "sets": {"x": row}}))
