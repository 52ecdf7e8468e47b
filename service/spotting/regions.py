"""Per-frame face-region descriptors for spotting: LBP histograms of brow, eye and mouth cells.

The face box is cropped (no margin, as the models see it) and resized to ``SIZE`` px; the
rotation-invariant uniform LBP (8 neighbours, radius 1: 10 codes) is histogrammed in a left
and a right cell of each region. LBP compares each pixel with its neighbours only, so the
descriptor ignores brightness changes and, being a histogram, a pixel or two of box jitter;
what changes it is texture moving inside a region: brows raised or knitted, eyes narrowed,
lips stretched. This is the descriptor of the LBP-chi-squared spotting baseline (Moilanen et
al., ICPR 2014; MEGC's baseline), on three regions instead of a 6x6 grid.
"""

from __future__ import annotations

import numpy as np

from service.faces import FaceBox, crop_face

SIZE = 64
BINS = 10  # riu2 codes of 8 neighbours: 0..8 ones (uniform patterns), 9 = non-uniform
# Regions as (top, bottom) fractions of the face crop's height (CK+-style Haar framing:
# brows at ~25 %, eyes at ~40 %, mouth from ~65 %), each split into a left and a right cell
# over the columns 10-90 %.
REGIONS: dict[str, tuple[float, float]] = {
    "brow": (0.12, 0.33),
    "eyes": (0.30, 0.52),
    "mouth": (0.62, 0.94),
}
CELLS = [(name, side) for name in REGIONS for side in ("left", "right")]
# Rows of the face each region needs (a masked model sees only the upper face).
UPPER_REGIONS = ("brow", "eyes")
DIM = len(CELLS) * BINS


def _riu2_table() -> np.ndarray:
    table = np.empty(256, np.uint8)
    for code in range(256):
        bits = [(code >> k) & 1 for k in range(8)]
        transitions = sum(bits[k] != bits[(k + 1) % 8] for k in range(8))
        table[code] = sum(bits) if transitions <= 2 else 9
    return table


_RIU2 = _riu2_table()
# The 8 neighbours of the centre, in circular order.
_OFFSETS = ((0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0))


def lbp_codes(img: np.ndarray) -> np.ndarray:
    """riu2 LBP codes (0..9) of every interior pixel of a uint8 image."""
    h, w = img.shape
    centre = img[1 : h - 1, 1 : w - 1]
    code = np.zeros(centre.shape, np.uint8)
    for k, (dy, dx) in enumerate(_OFFSETS):
        code |= (img[dy : dy + h - 2, dx : dx + w - 2] >= centre).astype(np.uint8) << k
    return _RIU2[code]


def region_features(grey: np.ndarray, box: FaceBox | None) -> np.ndarray | None:
    """float32 [DIM]: one normalised LBP histogram per cell (``CELLS`` order); None without a
    face."""
    if box is None:
        return None
    codes = lbp_codes(crop_face(grey, box, "full", (SIZE, SIZE)))
    n = codes.shape[0]
    c0, c1, mid = round(0.1 * n), round(0.9 * n), n // 2
    out = np.empty((len(CELLS), BINS), np.float32)
    for i, (name, side) in enumerate(CELLS):
        top, bottom = REGIONS[name]
        rows = slice(round(top * n), round(bottom * n))
        cols = slice(c0, mid) if side == "left" else slice(mid, c1)
        hist = np.bincount(codes[rows, cols].ravel(), minlength=BINS).astype(np.float32)
        out[i] = hist / max(1.0, float(hist.sum()))
    return out.ravel()
