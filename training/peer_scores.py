"""Scoring the peer (PyPI ``fer``) and us on the same held-out faces (bench/peer_faces.py
runs fer; the card renders ``docs/results/peer-fer-faces.json`` with ``render``).

fer has no contempt class, so both are scored on the four expressions fer knows (anger,
disgust, happiness, sadness: accuracy and macro-F1 over the images of those four, a face not
found or given another label counting as wrong) and on neutral faces (the share labelled
neutral).
"""

from __future__ import annotations

import numpy as np

FOUR = ("anger", "disgust", "happiness", "sadness")
FER_TO_OURS = {
    "angry": "anger",
    "disgust": "disgust",
    "happy": "happiness",
    "sad": "sadness",
    "neutral": "neutral",
}


def scores(truth: list[str], predicted: list[str | None]) -> dict:
    """Four-expression accuracy / macro-F1 (over the images of those four) and neutral rate."""
    from sklearn.metrics import f1_score

    t = np.asarray(truth, dtype=object)
    p = np.asarray(["none" if x is None else x for x in predicted], dtype=object)
    four = np.isin(t, FOUR)
    neutral = t == "neutral"
    out: dict = {"images": int(four.sum()), "neutral_images": int(neutral.sum())}
    if four.any():
        out["accuracy"] = float(np.mean(p[four] == t[four]))
        out["macro_f1"] = float(
            f1_score(t[four], p[four], labels=list(FOUR), average="macro", zero_division=0)
        )
    out["neutral_rate"] = float(np.mean(p[neutral] == "neutral")) if neutral.any() else None
    out["found"] = int(np.sum(p != "none"))
    return out


def ours_from_record(record: dict, name: str, mode: str = "frame") -> dict:
    """The same scores from the stored gateway confusion matrix of set ``name``."""
    m = record["sets"][name][mode]
    classes, conf = m["classes"], np.asarray(m["confusion"])
    truth: list[str] = []
    pred: list[str | None] = []
    for i, c in enumerate(classes):
        for j, d in enumerate(classes):
            truth += [c] * int(conf[i, j])
            pred += [d] * int(conf[i, j])
    out = scores(truth, pred)
    out["found"] = int(m["found"])  # a face not found was scored as the rest class
    return out


def render(result: dict) -> list[str]:
    lines = [
        f"Beside the peer (`python -m bench.peer_faces`): the same frames as the `frame` rows "
        f"(each held-out face 4x upscaled into a 640x480 frame), PyPI `fer` (its defaults) vs "
        f"{result['ours']} through the gateway; the four expressions fer has (anger, disgust, "
        "happiness, sadness; a face not found or given another label is wrong) and neutral "
        "faces. fer was trained on FER2013 images (FER+ relabels them; FER+ valid is FER2013's "
        "public test set) and does not say which: some FER+ valid faces may be its training "
        "faces, so its FER+ figures may be optimistic.",
        "",
        "| set | images (4 expressions) | fer: found / accuracy / macro-F1 | ours: found / "
        "accuracy / macro-F1 | neutral kept: fer / ours |",
        "|---|---|---|---|---|",
    ]
    for name, row in result["sets"].items():
        f, o = row["fer"], row["ours"]
        nf, no = f["neutral_rate"], o["neutral_rate"]
        lines.append(
            f"| {name} | {f['images']} | {f['found']} / {f['accuracy']:.3f} / "
            f"{f['macro_f1']:.3f} | {o['found']} / {o['accuracy']:.3f} / {o['macro_f1']:.3f} | "
            f"{'—' if nf is None else f'{nf:.3f}'} / {'—' if no is None else f'{no:.3f}'} |"
        )
    return lines
