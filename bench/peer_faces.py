"""The peer beside us on held-out faces: ``python -m bench.peer_faces``.

The same held-out faces and the same frames as ``training.api_eval``'s ``frame`` mode (each
face upscaled 4x into a 640x480 frame, the same seed, so the very same pixels) labelled by
PyPI ``fer`` (its defaults, in its own venv: bench/peer_fer_labels.py) and, from the stored
``docs/results/api-micro-cnn-v<N>.json``, by our gateway. fer has no contempt class, so both
are scored on the four expressions fer knows (anger, disgust, happiness, sadness: accuracy and
macro-F1 over the images of those four, a face not found or given another label counting as
wrong) and on neutral faces (the share labelled neutral). Writes
``docs/results/peer-fer-faces.json``; the card renders it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np

from bench.peer_env import ensure_peer_venv
from training.api_eval import in_frame
from training.data import read_grey
from training.peer_scores import FER_TO_OURS, ours_from_record, render, scores

PEER_SCRIPT = Path(__file__).with_name("peer_fer_labels.py")


def peer_labels(paths: list[str]) -> list[str | None]:
    """fer's top label per image, mapped to our names (fear/surprise: ``other``)."""
    python = ensure_peer_venv()
    job = json.dumps({"images": paths})
    run = subprocess.run(
        [str(python), str(PEER_SCRIPT)], input=job, capture_output=True, text=True, check=True
    )
    labels = json.loads(run.stdout)["labels"]
    return [None if e is None else FER_TO_OURS.get(max(e, key=e.get), "other") for e in labels]


def evaluate(data: Path, record: dict, seed: int = 0) -> dict:
    from model_artifact import ModelRepository
    from training.api_eval import held_out_sets

    card = ModelRepository(Path("model_repository")).load(record["model"], record["version"]).card
    sets = held_out_sets(data, list(card.classes), card.model_extra or {})
    out: dict = {"ours": f"{record['model']} v{record['version']}", "seed": seed, "sets": {}}
    for name, items in sets.items():
        rng = np.random.default_rng(seed)  # as api_eval.answers: one generator per set
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for k, (path, _) in enumerate(items):
                frame = in_frame(read_grey(path), rng)
                paths.append(str(Path(tmp) / f"{k}.png"))
                cv2.imwrite(paths[-1], frame)
            predicted = peer_labels(paths)
        truth = [c for _, c in items]
        out["sets"][name] = {
            "fer": scores(truth, predicted),
            "ours": ours_from_record(record, name),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.peer_faces", description=__doc__)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--record", type=Path, default=Path("docs/results/api-micro-cnn-v7.json"))
    ap.add_argument("--out", type=Path, default=Path("docs/results/peer-fer-faces.json"))
    args = ap.parse_args(argv)
    record = json.loads(args.record.read_text())
    result = evaluate(args.data, record, record["seed"])
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print("\n".join(render(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
