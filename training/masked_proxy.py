"""A masked-expression *proxy* evaluation set built from a posed class-per-folder dataset.

There is no public masked-expression data (the paper's MMED-FST is on request only). As a
proxy, for every subject with both a happiness image and an anger (sadness) image, the upper
face of the anger (sadness) image is stacked on the lower face of the *same subject's*
happiness image: a smiling mouth under angry (sad) eyes → ``happy_but_angry``
(``happy_but_sad``). The subject's genuine smiles are ``none``. CK+48 crops are each a face
detector's box, so one subject's crops line up to within a few pixels; the seam sits at the
``upper`` region's boundary (``model_artifact.regions.UPPER_FRACTION``), the rows a masked
model reads come from the angry/sad image only. It is a proxy: posed, composited faces of one
lab, not real masked expressions; call it that wherever a figure from it is quoted.

Output: ``<out>/{happy_but_angry,happy_but_sad,none}/S<subject>_....png``, loadable with
``python -m training evaluate --run RUN --data proxy=<out>``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from model_artifact.regions import region_rows
from training.data import DEFAULT_SUBJECT_RE, DataError, read_grey

SOURCES = {"happy_but_angry": "anger", "happy_but_sad": "sadness"}
SMILE = "happiness"


def _by_subject(folder: Path, pattern: re.Pattern) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(p for p in folder.glob("*") if p.is_file()):
        m = pattern.search(path.name)
        if m:
            out[m.group(1) if m.groups() else m.group(0)].append(path)
    return out


def compose(upper_face: np.ndarray, lower_face: np.ndarray, size: int = 48) -> np.ndarray:
    """``upper_face``'s upper region over ``lower_face``'s remaining rows (both resized)."""
    upper = cv2.resize(upper_face, (size, size), interpolation=cv2.INTER_AREA)
    lower = cv2.resize(lower_face, (size, size), interpolation=cv2.INTER_AREA)
    _, cut = region_rows(size, "upper")
    return np.concatenate([upper[:cut], lower[cut:]], axis=0)


def build(
    root: Path | str,
    out: Path | str,
    subjects: Collection[str] | None = None,
    subject_regex: str = DEFAULT_SUBJECT_RE,
    size: int = 48,
) -> dict[str, int]:
    """Write the proxy set for ``subjects`` (default: all) of ``root``; return class counts."""
    root, out = Path(root), Path(out)
    pattern = re.compile(subject_regex)
    if not (root / SMILE).is_dir():
        raise DataError(f"{root} has no {SMILE}/ folder to take smiling lower faces from")
    smiles = _by_subject(root / SMILE, pattern)
    counts = dict.fromkeys([*SOURCES, "none"], 0)
    for target, source in SOURCES.items():
        if not (root / source).is_dir():
            continue
        (out / target).mkdir(parents=True, exist_ok=True)
        for subject, uppers in _by_subject(root / source, pattern).items():
            if (subjects is not None and subject not in subjects) or subject not in smiles:
                continue
            lower = read_grey(smiles[subject][-1])  # the last frame: the apex of the smile
            for path in uppers:
                face = compose(read_grey(path), lower, size)
                Image.fromarray(face).save(out / target / f"{path.stem}_on_smile.png")
                counts[target] += 1
    (out / "none").mkdir(parents=True, exist_ok=True)
    for subject, paths in smiles.items():
        if subjects is not None and subject not in subjects:
            continue
        for path in paths:
            face = cv2.resize(read_grey(path), (size, size), interpolation=cv2.INTER_AREA)
            Image.fromarray(face).save(out / "none" / f"{path.stem}.png")
            counts["none"] += 1
    return counts
