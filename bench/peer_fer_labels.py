"""The peer, PyPI ``fer``, labelling still images in its own venv (bench/.venv-fer):
``.venv-fer/bin/python bench/peer_fer_labels.py < job.json > result.json``. Standalone: nothing
from this project is importable there.

Job: {"images": [path, ...]}. For each image, fer's defaults (Haar cascade + quantized TFLite
mini-Xception) via ``FER().detect_emotions``: the first face's emotion scores, or null when it
finds no face.
"""

from __future__ import annotations

import json
import sys

import cv2
from fer.fer import FER


def main() -> None:
    job = json.load(sys.stdin)
    detector = FER()
    out = []
    for path in job["images"]:
        found = detector.detect_emotions(cv2.imread(path))
        out.append({k: float(v) for k, v in found[0]["emotions"].items()} if found else None)
    json.dump({"labels": out}, sys.stdout)


if __name__ == "__main__":
    main()
