"""The spotting descriptors against a straightforward reference: riu2 codes from the eight
comparisons, then per cell a slice, ``np.bincount`` and ``np.std``."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from service.faces import FaceBox
from service.spotting.regions import (
    BINS,
    CELLS,
    LBP_DIM,
    REGIONS,
    contrasts,
    face_crop,
    histograms,
    lbp_codes,
    region_features,
)

# The 8 neighbours (dy, dx) of a pixel in circular order, from the top-left corner.
RING = [(-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1)]


def reference(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """riu2 codes, per-cell normalised histograms [cells, BINS] and grey-level spreads."""
    h, w = crop.shape
    centre = crop[1:-1, 1:-1]
    bits = np.stack([crop[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] >= centre for dy, dx in RING])
    ones = bits.sum(axis=0)
    transitions = (bits != np.roll(bits, 1, axis=0)).sum(axis=0)
    codes = np.where(transitions <= 2, ones, 9)
    n = h - 2
    c0, c1, mid = round(0.1 * n), round(0.9 * n), n // 2
    hists, spreads = [], []
    for name, side in CELLS:
        top, bottom = REGIONS[name]
        rows = slice(round(top * n), round(bottom * n))
        cols = slice(c0, mid) if side == "left" else slice(mid, c1)
        counts = np.bincount(codes[rows, cols].ravel(), minlength=BINS)
        hists.append(counts / max(1, counts.sum()))
        spreads.append(centre[rows, cols].astype(np.float64).std())
    return codes, np.array(hists), np.array(spreads)


def noisy(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Blurred noise with a flat patch (ties between neighbours)."""
    img = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 1.2)
    img[shape[0] // 3 : shape[0] // 2, : shape[1] // 2] = 77
    return img


@pytest.mark.parametrize("size", [20, 33, 47, 64, 90])
def test_descriptors_are_the_reference_on_crops_of_any_size(size: int) -> None:
    crop = noisy(np.random.default_rng(size), (size, size))
    codes, hists, spreads = reference(crop)
    np.testing.assert_array_equal(lbp_codes(crop), codes)
    np.testing.assert_allclose(histograms(lbp_codes(crop)), hists.ravel(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(contrasts(crop), spreads, rtol=1e-4, atol=1e-4)


BOXES = [FaceBox(200, 100, 300, 300, 1.0), FaceBox(-30, -20, 90, 110, 1.0),
         FaceBox(600, 400, 70, 60, 1.0), FaceBox(100, 50, 40, 40, 1.0)]  # fmt: skip


@pytest.mark.parametrize("box", BOXES)
def test_region_features_are_the_reference_of_the_face_crop(box: FaceBox) -> None:
    grey = noisy(np.random.default_rng(box.w), (480, 640))
    features = region_features(grey, box)
    assert features is not None and features.dtype == np.float32
    _, hists, spreads = reference(face_crop(grey, box))
    np.testing.assert_allclose(features[:LBP_DIM], hists.ravel(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(features[LBP_DIM:], spreads, rtol=1e-4, atol=1e-4)
