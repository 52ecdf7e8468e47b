"""Splits: subject independence, proportions, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from training.splits import random_split, split, subject_folds, subject_split


def _toy(n_subjects: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    subjects, labels = [], []
    for s in range(n_subjects):
        for _ in range(rng.integers(1, 8)):
            subjects.append(f"S{s:03d}")
            labels.append(int(rng.integers(0, 5)))
    return np.asarray(labels), np.asarray(subjects)


@pytest.mark.parametrize("seed", range(5))
def test_subject_split_never_shares_a_subject(seed):
    labels, subjects = _toy(seed=seed)
    train, test = subject_split(labels, subjects, 0.2, seed)
    assert set(subjects[train]).isdisjoint(subjects[test])
    assert len(train) + len(test) == len(labels)
    assert 0.1 < len(set(subjects[test])) / len(set(subjects)) < 0.3


def test_subject_folds_cover_every_subject_once():
    labels, subjects = _toy()
    folds = subject_folds(labels, subjects, 5, seed=3)
    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == list(range(len(labels)))
    for train, test in folds:
        assert set(subjects[train]).isdisjoint(subjects[test])


def test_splits_are_seeded():
    labels, subjects = _toy()
    for kind in ("subject", "random"):
        a = split(kind, labels, subjects, 0.2, 7)
        b = split(kind, labels, subjects, 0.2, 7)
        c = split(kind, labels, subjects, 0.2, 8)
        np.testing.assert_array_equal(a[1], b[1])
        assert not np.array_equal(a[1], c[1])


def test_random_split_is_80_20():
    labels, _ = _toy()
    train, test = random_split(labels, 0.2, 0)
    assert abs(len(test) / len(labels) - 0.2) < 0.02
    assert set(train).isdisjoint(test)


def test_errors():
    labels, subjects = _toy(n_subjects=3)
    with pytest.raises(ValueError, match="at least 5 subjects"):
        subject_folds(labels, subjects, 5, 0)
    with pytest.raises(ValueError, match="unknown split"):
        split("temporal", labels, subjects, 0.2, 0)
