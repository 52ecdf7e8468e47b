"""Load a class-per-folder image dataset as uint8 grey crops at a model's input size.

Layout (the paper's and ``../shared/data/ckplus5``): ``<root>/<class>/<file>``, any size and
any format Pillow reads. Each image is converted to grey, cut to its face region with
``model_artifact.crop_region`` (the exact function the gateway applies to its detected face)
and resized with OpenCV's area interpolation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from model_artifact import TASK_CLASSES, face_input

log = logging.getLogger(__name__)

DEFAULT_SUBJECT_RE = r"^(S\d+)_"


# Marks a ``Dataset`` field the caller left out (compared by identity, never stored).
_UNSET = np.empty(0, dtype=object)


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
    # Multi-dataset training (training.sources): the dataset each image came from, the split a
    # dataset ships ("train"/"valid"; "" = none, split by subject) and soft targets [N, K]
    # (e.g. from FER+ votes; None = one-hot labels).
    # ``sources``/``fixed_split`` left out are all "" (one per image, set in __post_init__).
    sources: np.ndarray = field(default_factory=lambda: _UNSET)
    fixed_split: np.ndarray = field(default_factory=lambda: _UNSET)
    targets: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.sources is _UNSET:
            self.sources = np.full(n, "", dtype=object)
        if self.fixed_split is _UNSET:
            self.fixed_split = np.full(n, "", dtype=object)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> Dataset:
        return Dataset(
            images=self.images[index],
            labels=self.labels[index],
            classes=self.classes,
            subjects=self.subjects[index],
            paths=[self.paths[i] for i in index],
            sources=self.sources[index],
            fixed_split=self.fixed_split[index],
            targets=None if self.targets is None else self.targets[index],
        )

    def soft_targets(self) -> np.ndarray:
        """``[N, K]`` float32 targets: the soft ones where known, else one-hot labels."""
        onehot = np.eye(len(self.classes), dtype=np.float32)[self.labels]
        if self.targets is None:
            return onehot
        known = np.isfinite(self.targets).all(axis=1)
        return np.where(known[:, None], self.targets, onehot).astype(np.float32)

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
    root: Path,
    task: str,
    class_map: Mapping[str, str] | None = None,
    skip: Collection[str] = (),
) -> list[tuple[str, Path]]:
    """``(class, folder)`` pairs in the task's class order; raises ``DataError`` when unusable.

    ``class_map`` (folder → class) may send several folders to one class (e.g. FER+ happiness
    and neutral upper faces → ``none``); when given, only mapped folders are used. Folders
    named in ``skip`` are ignored (e.g. FER+ fear and surprise, which no task has).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"data folder {root} does not exist or is not a directory")
    folders = {
        p.name: p
        for p in sorted(root.iterdir())
        if p.is_dir() and not p.name.startswith(".") and p.name not in skip
    }
    if class_map:
        missing = sorted(set(class_map) - set(folders) - set(skip))
        if missing:
            raise DataError(f"class map names folders absent from {root}: {', '.join(missing)}")
        pairs = [(class_map[name], folders[name]) for name in class_map if name in folders]
    else:
        pairs = list(folders.items())
    if not pairs:
        raise DataError(f"data folder {root} has no class sub-folders")
    vocabulary = TASK_CLASSES[task]
    unknown = sorted({c for c, _ in pairs} - set(vocabulary))
    if unknown:
        raise DataError(
            f"folders {', '.join(unknown)} are not {task} classes ({', '.join(vocabulary)}); "
            "rename them, map them with --class-map CLASS=FOLDER or drop them with --skip-folder"
        )
    ordered = sorted(pairs, key=lambda pair: (vocabulary.index(pair[0]), pair[1].name))
    if len({c for c, _ in ordered}) < 2:
        raise DataError(f"need at least 2 classes, found {len(ordered)} in {root}")
    return ordered


def read_grey(path: Path) -> np.ndarray:
    """Decode any Pillow-readable image (TIFF included; a multi-page file's first page) as a
    2-D uint8 grey array, raising on failure. 16-bit samples are scaled (x/257) like the
    gateway does, not clipped; alpha is composited over white."""
    with Image.open(path) as img:
        img.load()
        if img.mode.startswith("I;16") or img.mode in ("I", "F"):
            values = np.asarray(img).astype(np.float64)
            if img.mode.startswith("I;16"):
                values = values / 257.0
            return np.clip(np.rint(values), 0, 255).astype(np.uint8)
        if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
            rgba = img.convert("RGBA")
            grey = Image.new("L", rgba.size, 255)
            grey.paste(rgba.convert("L"), mask=rgba.getchannel("A"))
            return np.asarray(grey, dtype=np.uint8)
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
    skip: Collection[str] = (),
    classes: list[str] | None = None,
) -> Dataset:
    """Read every image under ``root``; unreadable files are skipped, counted and logged.

    A file name the subject pattern does not match is an error when ``require_subjects``
    (subject splits); otherwise the file's own name stands in for its subject. ``classes``
    fixes the label order (a superset of the folders' classes; default: the folders' own).
    """
    pattern = re.compile(subject_regex)
    images: list[np.ndarray] = []
    labels: list[int] = []
    subjects: list[str] = []
    paths: list[Path] = []
    skipped: list[Path] = []
    pairs = class_folders(Path(root), task, class_map, skip)
    found = list(dict.fromkeys(c for c, _ in pairs))
    classes = _label_order(found, classes, root)
    for name, folder in pairs:
        label = classes.index(name)
        for path in _image_files(folder):
            face = _read_or_skip(path)
            if face is None:
                skipped.append(path)
                continue
            subject = _subject_id(path.name, pattern, require_subjects)
            images.append(prepare(face, size, face_region))
            labels.append(label)
            subjects.append(subject)
            paths.append(path)
    _check_loaded(root, images, labels, skipped, classes, found)
    return Dataset(
        images=np.stack(images),
        labels=np.asarray(labels, dtype=np.int64),
        classes=classes,
        subjects=np.asarray(subjects),
        paths=paths,
        skipped=skipped,
    )


def _label_order(found: list[str], classes: list[str] | None, root: Path | str) -> list[str]:
    """``classes`` (which must include every class ``found``) or, when not given, ``found``."""
    if classes is None:
        return found
    missing = sorted(set(found) - set(classes))
    if missing:
        raise DataError(f"classes {', '.join(missing)} of {root} are not in {classes}")
    return list(classes)


def _image_files(folder: Path) -> list[Path]:
    """Every non-hidden file under ``folder`` (recursively), sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def _read_or_skip(path: Path) -> np.ndarray | None:
    """``read_grey(path)``, or ``None`` (logged) when the file is not a readable image."""
    try:
        return read_grey(path)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        log.warning("skipping unreadable image %s: %s", path, exc)
        return None


def _subject_id(name: str, pattern: re.Pattern[str], require: bool) -> str:
    """The subject id in file ``name`` (``pattern``'s first group, else its whole match); the
    name itself when it does not match and subjects are not ``require``d."""
    match = pattern.search(name)
    if match is None:
        if require:
            raise DataError(
                f"cannot parse a subject id from {name!r} with {pattern.pattern!r}; "
                "pass --subject-regex with one capturing group"
            )
        return name
    return match.group(1) if match.groups() else match.group(0)


def _check_loaded(
    root: Path | str,
    images: list[np.ndarray],
    labels: list[int],
    skipped: list[Path],
    classes: list[str],
    found: list[str],
) -> None:
    """Raise when nothing was read or a found class has no readable image; log the skips."""
    if not images:
        raise DataError(f"no readable images under {root} ({len(skipped)} unreadable)")
    empty = [c for i, c in enumerate(classes) if c in found and i not in set(labels)]
    if empty:
        raise DataError(f"class folders without readable images: {', '.join(empty)}")
    if skipped:
        log.warning("skipped %d unreadable image(s) under %s", len(skipped), root)
