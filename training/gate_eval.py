"""The smile gate (service/gate.py) on held-out faces: ``python -m training.gate_eval``.

Runs the exported masked model (upper faces) and the gate's full-face model on faces neither
trained on, combines them with the gateway's own ``SmileGate.apply`` and counts, per set, how
often a masked label comes out with and without the gate:

- FER+ ``valid/`` (never trained on by any shipped model): neutral faces and genuine smiles
  (the issue's "masked label on <= 10 %"), angry / sad / contempt / disgust faces without a
  smile (a masked label there is a false alarm: a masked expression is a *smile* hiding
  anger or sadness);
- a cross-person PROXY from FER+ valid: an angry (sad) face's upper region over a random
  smiling face's lower region (``training.masked_proxy.compose``; not the same person, so the
  seam does not line up: a crude proxy, held out for both models);
- the CK+ masked PROXY (same subject, aligned) and genuine smiles of the masked model's
  held-out CK+ subjects; the gate's micro model trained on most of those subjects (their
  smiles included), so its smile probability there is optimistic: say so where quoted.

Writes ``docs/results/gate.json``; ``python -m training card`` renders it into the card.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from model_artifact import ModelRepository, ModelVersion
from model_artifact.model_input import face_input
from training.data import read_grey
from training.masked_proxy import SOURCES, compose

FER_SETS = ("neutral", "happiness", "anger", "sadness", "contempt", "disgust")
BATCH = 256


def _predictor(version: ModelVersion) -> Callable[[list[np.ndarray]], np.ndarray]:
    """Probabilities of ``version``'s SavedModel for face images (its region and input size),
    through the serving signature as the gateway's SavedModel runtime calls it."""
    from service.backends.runtimes import SavedModelRuntime

    runtime = SavedModelRuntime(version)
    card = version.card
    size = (card.input.height, card.input.width)

    def run(images: list[np.ndarray]) -> np.ndarray:
        x = np.stack([face_input(i, None, card.face_region, size) for i in images])[..., None]
        return np.concatenate([runtime.run(x[i : i + BATCH]) for i in range(0, len(x), BATCH)])

    return run


def _images(folder: Path, limit: int | None = None) -> list[np.ndarray]:
    paths = sorted(p for p in folder.glob("*") if p.is_file())
    return [read_grey(p) for p in paths[:limit]]


def face_sets(data: Path, masked: ModelVersion, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Every evaluated set by name (see the module docstring)."""
    fer = data / "ferplus" / "valid"
    sets = {f"FER+ valid {c}": _images(fer / c) for c in FER_SETS}
    rng = np.random.default_rng(seed)
    smiles = sets["FER+ valid happiness"]
    for target, source in SOURCES.items():
        uppers = sets[f"FER+ valid {source}"]
        sets[f"FER+ cross-person PROXY {target}"] = [
            compose(u, smiles[int(rng.integers(len(smiles)))]) for u in uppers
        ]
    extra = masked.card.model_extra or {}
    held = set(extra.get("evaluation", {}).get("held_out_subject_ids", []))
    ck = data / "ckplus5"
    by: dict[str, dict[str, list[np.ndarray]]] = {}
    for folder in ("happiness", *SOURCES.values()):
        for p in sorted((ck / folder).glob("*.png")):
            m = re.match(r"^(S\d+)_", p.name)
            if m and m.group(1) in held:
                by.setdefault(folder, {}).setdefault(m.group(1), []).append(read_grey(p))
    happy = by.get("happiness", {})
    sets["CK+ held-out genuine smiles"] = [i for s in sorted(happy) for i in happy[s]]
    for target, source in SOURCES.items():
        sets[f"CK+ same-subject PROXY {target}"] = [
            compose(face, happy[s][0])
            for s, faces in sorted(by.get(source, {}).items())
            if s in happy
            for face in faces
        ]
    return sets


def evaluate(repository: Path, data: Path, masked_name: str, gate_name: str) -> dict:
    """Masked-label rates with and without the gate, per set; the smile rate per set."""
    from service.gate import smile_gates

    repo = ModelRepository(repository)
    masked = repo.load(masked_name)
    gate = smile_gates(repo.load, gate_name)(masked)
    if gate is None:
        raise SystemExit(f"{masked_name} has no smile gate from {gate_name!r}")
    upper, full = _predictor(masked), _predictor(gate.model)
    classes = list(masked.card.classes)
    out: dict = {
        "masked": {"name": masked.name, "version": masked.version},
        "gate": gate.ref().model_dump(),
        "sets": {},
    }
    for name, images in face_sets(data, masked).items():
        if not images:
            continue
        p, g = upper(images), full(images)
        gated = gate.apply(p, g)
        row: dict = {"n": len(images), "smile_ge_0.5": float(np.mean(g[:, gate.smile] >= 0.5))}
        for key, probs in (("ungated", p), ("gated", gated)):
            labels = probs.argmax(axis=1)
            shares = {c: float(np.mean(labels == i)) for i, c in enumerate(classes)}
            row[key] = {**shares, "masked": float(np.mean(labels != gate.rest))}
        out["sets"][name] = row
    return out


def render(result: dict) -> list[str]:
    """The card's table of ``gate.json``."""
    m, g = result["masked"], result["gate"]
    lines = [
        f"The smile gate on held-out faces ({m['name']} v{m['version']} gated by "
        f"{g['model']} v{g['version']}'s `{g['smile_class']}`; `python -m training.gate_eval`; "
        "service/gate.py):",
        "",
        "| set | faces | smiling (P ≥ 0.5) | masked label, ungated | masked label, gated "
        "| happy_but_angry / happy_but_sad, gated |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in result["sets"].items():
        u, gt = row["ungated"], row["gated"]
        lines.append(
            f"| {name} | {row['n']} | {row['smile_ge_0.5']:.3f} | {u['masked']:.3f} | "
            f"{gt['masked']:.3f} | {gt.get('happy_but_angry', 0):.3f} / "
            f"{gt.get('happy_but_sad', 0):.3f} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.gate_eval", description=__doc__)
    p.add_argument("--repository", type=Path, default=Path("model_repository"))
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--masked", default="masked-cnn")
    p.add_argument("--gate", default=None, help="the gate model (default: the gateway's)")
    p.add_argument("--out", type=Path, default=Path("docs/results/gate.json"))
    args = p.parse_args(argv)
    from service.settings import SMILE_GATE_MODEL

    result = evaluate(args.repository, args.data, args.masked, args.gate or SMILE_GATE_MODEL)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print("\n".join(render(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
