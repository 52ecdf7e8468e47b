"""Several datasets at once: ``--data NAME=PATH`` specs, per-dataset class maps, shipped splits
and soft labels from vote counts.

A dataset is one class-per-folder tree (``<root>/<class>/<file>``, split by subject later), or a
tree that ships its own split: ``<root>/train/<class>/...`` plus ``<root>/valid/`` (or
``test/``), like ``../shared/data/ferplus``. A split folder may hold ``votes.csv`` (a ``file``
column and one vote-count column per folder name, as FER+ ships it): the votes of the classes a
model has become that image's soft target (votes for dropped folders and ``unknown`` /
``not_a_face`` are left out, the rest renormalised).

Class maps and skipped folders are scoped ``NAME:CLASS=FOLDER`` / ``NAME:FOLDER`` to one
dataset, or unscoped (``CLASS=FOLDER``) for every dataset.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_artifact import TASK_CLASSES
from training.data import DEFAULT_SUBJECT_RE, DataError, Dataset, class_folders, load_dataset

log = logging.getLogger(__name__)

TRAIN_DIR = "train"
HELD_OUT_DIRS = ("valid", "test")
VOTES_FILE = "votes.csv"


@dataclass(frozen=True)
class DataSpec:
    """One dataset of a run: its short name (used in reports and scoping) and folder."""

    name: str
    path: str

    @classmethod
    def parse(cls, text: str) -> DataSpec:
        """``NAME=PATH`` or a bare ``PATH`` (the name is then the folder's name)."""
        name, sep, path = text.partition("=")
        if not sep:
            name, path = Path(text).name, text
        name, path = name.strip(), path.strip()
        if not name or not path:
            raise DataError(f"bad dataset {text!r}; expected NAME=PATH or PATH")
        return cls(name, path)

    def __str__(self) -> str:
        return f"{self.name}={self.path}"


def parse_specs(texts: str | Sequence[str]) -> list[DataSpec]:
    specs = [DataSpec.parse(t) for t in ([texts] if isinstance(texts, str) else texts)]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise DataError(f"dataset names must differ: {', '.join(names)} (use NAME=PATH)")
    if not specs:
        raise DataError("no dataset given")
    return specs


def _scope(item: str) -> tuple[str | None, str]:
    scope, sep, rest = item.partition(":")
    if not sep or "=" in scope:  # no scope (an '=' before ':' belongs to CLASS=FOLDER)
        return None, item
    return scope, rest


def unscoped(items: Sequence[str] | None) -> list[str]:
    """The items without a ``NAME:`` scope (they apply to every dataset)."""
    return [item for item in items or [] if _scope(item)[0] is None]


def scoped(items: Sequence[str] | None, name: str) -> list[str]:
    """The items that apply to dataset ``name``: unscoped ones and ``name:...`` ones."""
    out = []
    for item in items or []:
        scope, rest = _scope(item)
        if scope is None or scope == name:
            out.append(rest)
    return out


def shipped_splits(root: Path) -> dict[str, Path] | None:
    """``{"train": path, "valid"|"test": path}`` when ``root`` ships its own split."""
    root = Path(root)
    train = root / TRAIN_DIR
    held = [root / d for d in HELD_OUT_DIRS if (root / d).is_dir()]
    if not train.is_dir() or not held:
        return None
    return {TRAIN_DIR: train, **{p.name: p for p in held}}


def vote_targets(
    folder: Path, ds: Dataset, class_map: Mapping[str, str] | None
) -> np.ndarray | None:
    """Soft targets ``[N, K]`` from ``folder/votes.csv`` (rows NaN where an image has none)."""
    path = Path(folder) / VOTES_FILE
    if not path.is_file():
        return None
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        columns = [c for c in reader.fieldnames or [] if c != "file"]
        rows = {row["file"]: row for row in reader}
    if class_map:
        to_class = {c: class_map[c] for c in columns if c in class_map}
    else:
        to_class = {c: c for c in columns}
    targets = np.full((len(ds), len(ds.classes)), np.nan, dtype=np.float32)
    for i, p in enumerate(ds.paths):
        row = rows.get(p.name)
        if row is None:
            continue
        votes = np.zeros(len(ds.classes), dtype=np.float32)
        for column, cls in to_class.items():
            if cls in ds.classes:
                votes[ds.classes.index(cls)] += float(row[column] or 0)
        if votes.sum() > 0:
            targets[i] = votes / votes.sum()
    log.info(
        "%s: soft targets for %d of %d images", path, np.isfinite(targets[:, 0]).sum(), len(ds)
    )
    return targets


def source_classes(
    specs: Sequence[DataSpec],
    task: str,
    class_maps: Mapping[str, Mapping[str, str]],
    skips: Mapping[str, Collection[str]],
) -> list[str]:
    """The union of every dataset's classes, in the task's canonical order."""
    found: set[str] = set()
    for spec in specs:
        roots = shipped_splits(Path(spec.path))
        root = roots[TRAIN_DIR] if roots else Path(spec.path)
        pairs = class_folders(
            root, task, class_maps.get(spec.name) or None, skips.get(spec.name, ())
        )
        found |= {c for c, _ in pairs}
    return [c for c in TASK_CLASSES[task] if c in found]


def load_sources(
    specs: Sequence[DataSpec],
    *,
    task: str,
    size: int,
    face_region: str = "full",
    subject_regex: str = DEFAULT_SUBJECT_RE,
    class_maps: Mapping[str, Mapping[str, str]] | None = None,
    skips: Mapping[str, Collection[str]] | None = None,
    require_subjects: bool = True,
    classes: list[str] | None = None,
) -> Dataset:
    """Every dataset of ``specs`` in one :class:`Dataset` with a shared class list.

    A dataset with its own split is tagged ``fixed_split`` train/valid/test and needs no
    subject ids (its file names stand in); the others need them when ``require_subjects``.
    """
    class_maps = class_maps or {}
    skips = skips or {}
    classes = classes or source_classes(specs, task, class_maps, skips)
    parts: list[Dataset] = []
    for spec in specs:
        roots = shipped_splits(Path(spec.path)) or {"": Path(spec.path)}
        for split_name, root in roots.items():
            part = load_dataset(
                root,
                task=task,
                size=size,
                face_region=face_region,
                subject_regex=subject_regex,
                class_map=class_maps.get(spec.name) or None,
                require_subjects=require_subjects and not split_name,
                skip=skips.get(spec.name, ()),
                classes=classes,
            )
            part.sources = np.full(len(part), spec.name, dtype=object)
            part.fixed_split = np.full(len(part), split_name, dtype=object)
            part.targets = vote_targets(root, part, class_maps.get(spec.name) or None)
            log.info(
                "%s%s: %s", spec.name, f"/{split_name}" if split_name else "", part.class_counts()
            )
            parts.append(part)
    return concatenate(parts)


def concatenate(parts: Sequence[Dataset]) -> Dataset:
    classes = parts[0].classes
    if any(p.classes != classes for p in parts):
        raise DataError("datasets disagree on the class list")
    k = len(classes)
    targets = None
    if any(p.targets is not None for p in parts):
        targets = np.concatenate(
            [p.targets if p.targets is not None else np.full((len(p), k), np.nan) for p in parts]
        ).astype(np.float32)
    return Dataset(
        images=np.concatenate([p.images for p in parts]),
        labels=np.concatenate([p.labels for p in parts]),
        classes=classes,
        subjects=np.concatenate([p.subjects.astype(object) for p in parts]),
        paths=[path for p in parts for path in p.paths],
        skipped=[path for p in parts for path in p.skipped],
        sources=np.concatenate([p.sources for p in parts]),
        fixed_split=np.concatenate([p.fixed_split for p in parts]),
        targets=targets,
    )
