"""Load a class-per-folder image dataset as uint8 grey crops at a model's input size.

Layout (the paper's and ``../shared/data/ckplus5``): ``<root>/<class>/<file>``, any size and
any format Pillow reads. Each image is converted to grey, cut to its face region with
``model_artifact.crop_region`` (the exact function the gateway applies to its detected face)
and resized with OpenCV's area interpolation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from model_artifact import TASK_CLASSES, face_input

log = logging.getLogger(__name__)

DEFAULT_SUBJECT_RE = r"^(S\d+)_"


class DataError(ValueError):
    """The dataset folder cannot be used (missing, empty, too few classes, bad names)."""


@dataclass
class Dataset:
    """Images ``[N, H, W]`` uint8, integer labels into ``classes``, one subject id per image."""

    images: np.ndarray
    labels: np.ndarray
    classes: list[str]
    subjects: np.ndarray
    paths: list[Path]
    skipped: list[Path] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> Dataset:
        return Dataset(
            images=self.images[index],
            labels=self.labels[index],
            classes=self.classes,
            subjects=self.subjects[index],
            paths=[self.paths[i] for i in index],
        )

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, counts, strict=True)}


def parse_class_map(pairs: list[str] | None) -> dict[str, str]:
    """``["happy_but_angry=anger"]`` → ``{"anger": "happy_but_angry"}`` (folder → class)."""
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        target, sep, source = pair.partition("=")
        if not sep or not target or not source:
            raise DataError(f"bad class mapping {pair!r}; expected CLASS=FOLDER")
        mapping[source.strip()] = target.strip()
    return mapping


def class_folders(
    root: Path, task: str, class_map: Mapping[str, str] | None = None
) -> list[tuple[str, Path]]:
    """``(class, folder)`` pairs in the task's class order; raises ``DataError`` when unusable."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"data folder {root} does not exist or is not a directory")
    folders = {
        p.name: p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")
    }
    if class_map:
        missing = sorted(set(class_map) - set(folders))
        if missing:
            raise DataError(f"class map names folders absent from {root}: {', '.join(missing)}")
        folders = {class_map[name]: folders[name] for name in class_map}
    if not folders:
        raise DataError(f"data folder {root} has no class sub-folders")
    vocabulary = TASK_CLASSES[task]
    unknown = sorted(set(folders) - set(vocabulary))
    if unknown:
        raise DataError(
            f"folders {', '.join(unknown)} are not {task} classes ({', '.join(vocabulary)}); "
            "rename them or map them with --class-map CLASS=FOLDER"
        )
    ordered = [(c, folders[c]) for c in vocabulary if c in folders]
    if len(ordered) < 2:
        raise DataError(f"need at least 2 classes, found {len(ordered)} in {root}")
    return ordered


def read_grey(path: Path) -> np.ndarray:
    """Decode any Pillow-readable image as a 2-D uint8 grey array (raises on failure)."""
    with Image.open(path) as img:
        img.load()
        return np.asarray(img.convert("L"), dtype=np.uint8)


def prepare(face: np.ndarray, size: int, face_region: str) -> np.ndarray:
    """Grey face crop → region → ``size``x``size`` uint8 (the same steps the gateway runs)."""
    return face_input(face, None, face_region, (size, size))


def load_dataset(
    root: Path | str,
    *,
    task: str,
    size: int,
    face_region: str = "full",
    subject_regex: str = DEFAULT_SUBJECT_RE,
    class_map: Mapping[str, str] | None = None,
    require_subjects: bool = True,
) -> Dataset:
    """Read every image under ``root``; unreadable files are skipped, counted and logged.

    A file name the subject pattern does not match is an error when ``require_subjects``
    (subject splits); otherwise the file's own name stands in for its subject.
    """
    pattern = re.compile(subject_regex)
    images, labels, subjects, paths, skipped = [], [], [], [], []
    for label, (_, folder) in enumerate(class_folders(Path(root), task, class_map)):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.name.startswith("."):
                continue
            try:
                face = read_grey(path)
            except (UnidentifiedImageError, OSError, ValueError) as exc:
                log.warning("skipping unreadable image %s: %s", path, exc)
                skipped.append(path)
                continue
            match = pattern.search(path.name)
            if not match and require_subjects:
                raise DataError(
                    f"cannot parse a subject id from {path.name!r} with {subject_regex!r}; "
                    "pass --subject-regex with one capturing group"
                )
            images.append(prepare(face, size, face_region))
            labels.append(label)
            if match is None:
                subjects.append(path.name)
            else:
                subjects.append(match.group(1) if match.groups() else match.group(0))
            paths.append(path)
    classes = [c for c, _ in class_folders(Path(root), task, class_map)]
    if not images:
        raise DataError(f"no readable images under {root} ({len(skipped)} unreadable)")
    empty = [c for i, c in enumerate(classes) if i not in set(labels)]
    if empty:
        raise DataError(f"class folders without readable images: {', '.join(empty)}")
    if skipped:
        log.warning("skipped %d unreadable image(s) under %s", len(skipped), root)
    return Dataset(
        images=np.stack(images),
        labels=np.asarray(labels, dtype=np.int64),
        classes=classes,
        subjects=np.asarray(subjects),
        paths=paths,
        skipped=skipped,
    )
