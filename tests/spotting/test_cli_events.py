"""`mmed predict --events` and `--plot` on answers with and without events."""

from __future__ import annotations

import pytest

pytest.importorskip("mmed_client")
from mmed_client.models import PredictResponse

from mmed_cli import output

CLASSES = ["anger", "happiness"]
PROBS = {"anger": 0.8, "happiness": 0.2}


def answer(events):
    frames = [
        {"index": i, "timestamp_s": i / 30, "face": {"x": 1, "y": 2, "w": 30, "h": 30,
         "score": 0.9}, "label": "anger", "confidence": 0.8, "probabilities": PROBS}
        for i in range(60)
    ]  # fmt: skip
    body = {
        "media": {"kind": "video", "width": 64, "height": 64, "fps": 30.0, "duration_s": 2.0,
                  "frames_sampled": 60},
        "model": {"name": "micro-cnn", "version": 1, "task": "micro", "classes": CLASSES},
        "frames": frames,
        "summary": {"frames_with_face": 60, "label_counts": {"anger": 60},
                    "dominant_label": "anger", "mean_probabilities": PROBS},
        "timing_ms": {"decode": 1.0, "detect": 1.0, "infer": 1.0, "total": 3.0},
        "events": events,
    }  # fmt: skip
    return PredictResponse.from_dict(body)


EVENT = {
    "kind": "micro", "label": "happiness", "confidence": 0.91, "onset_index": 20,
    "apex_index": 23, "offset_index": 27, "onset_s": 20 / 30, "apex_s": 23 / 30,
    "offset_s": 27 / 30,
    "evidence": {"signal": "motion", "region": "mouth", "score": 1.7, "probability_change": 0.4,
                 "motion": {"brow": 1.0, "eyes": 1.1, "mouth": 6.0}, "baseline_label": "anger"},
}  # fmt: skip


def test_events_table() -> None:
    text = output.events_table(answer([EVENT]))
    assert "micro" in text and "happiness" in text and "motion/mouth" in text and "20-27" in text
    assert "not computed" in output.events_table(answer(None))
    assert "no event" in output.events_table(answer([]))


def test_plot_marks_events(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from mmed_cli.plot import plot_timelines

    out = plot_timelines([("a.mp4", answer([EVENT])), ("b.mp4", answer(None))], tmp_path / "p.png")
    assert out.stat().st_size > 10_000
