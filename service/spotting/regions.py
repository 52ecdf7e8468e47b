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

from functools import cache
from typing import NamedTuple

import cv2
import numpy as np

from service.faces import FaceBox

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
LBP_DIM = len(CELLS) * BINS
DIM = LBP_DIM + len(CELLS)  # the histograms, then each cell's grey-level spread (contrast)


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
_BITS = np.zeros((3, 3, 1), np.uint8)  # each neighbour's bit in the code (the centre: none)
for _k, (_dy, _dx) in enumerate(_OFFSETS):
    _BITS[_dy, _dx] = 1 << _k


def _flat_codes(img: np.ndarray) -> np.ndarray:
    """The 8-bit LBP code of every interior pixel (i, j) of a C-contiguous image at position
    ``i * w + j`` (positions with ``j >= w - 2`` hold wrapped-around rubbish). In this layout
    neighbour (dy, dx) of every pixel is one strided view of the image, so the 8 comparisons
    (and the centre's with itself, weight 0) are one broadcast compare, one multiply, one sum."""
    h, w = img.shape
    size = (h - 3) * w + w - 2
    step = img.itemsize
    window = np.ndarray((3, 3, size), img.dtype, img, 0, (w * step, step, step))
    ge = window >= img.reshape(-1)[w + 1 : w + 1 + size]
    return (ge * _BITS).sum(axis=(0, 1), dtype=np.uint8)


def lbp_codes(img: np.ndarray) -> np.ndarray:
    """riu2 LBP codes (0..9) of every interior pixel of a uint8 image."""
    img = np.ascontiguousarray(img)
    h, w = img.shape
    codes = cv2.LUT(_flat_codes(img), _RIU2)
    return np.ndarray((h - 2, w - 2), np.uint8, codes, 0, (w, 1)).copy()


def face_crop(grey: np.ndarray, box: FaceBox, size: int = SIZE) -> np.ndarray:
    """The face box of ``grey`` (no margin; parts outside the frame edge-replicated) at
    ``size`` px: resampled bilinearly to twice ``size``, then averaged 2x2. Within a grey
    level of ``crop_face``'s area resampling on average (tests/spotting), at a tenth of its
    cost (an area resize to an arbitrary ratio is the costly part; to half size it is cheap)."""
    h, w = grey.shape[:2]
    x0, y0, x1, y1 = box.x, box.y, box.x + max(1, box.w), box.y + max(1, box.h)
    inner = grey[max(y0, 0) : max(min(y1, h), 0), max(x0, 0) : max(min(x1, w), 0)]
    if inner.size == 0:
        raise ValueError(f"face box {box} lies outside the {w}x{h} frame")
    pads = (max(-y0, 0), max(y1 - h, 0), max(-x0, 0), max(x1 - w, 0))
    if any(pads):
        inner = cv2.copyMakeBorder(inner, *pads, cv2.BORDER_REPLICATE)
    twice = cv2.resize(inner, (2 * size, 2 * size), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(twice, (size, size), interpolation=cv2.INTER_AREA)


class _Layout(NamedTuple):
    """Where each pixel of ``n`` x ``n`` codes (rows ``stride`` apart) counts: the cells split
    its rows into bands (brow only, brow and eyes, eyes only, mouth: the distinct sets of
    cells a row is in) and its columns into sides, a group per (band, side), one more for the
    pixels in no cell (and the layout's rubbish)."""

    bins: np.ndarray  # [positions] int: group * BINS, the pixel's first bin
    share: np.ndarray  # [cells, groups] float: 1 / the cell's pixel count where it has the group


@cache
def _layout(n: int, stride: int) -> _Layout:
    """The ``_Layout`` of ``n`` x ``n`` codes at flat positions ``row * stride + column``."""
    c0, c1, mid = round(0.1 * n), round(0.9 * n), n // 2
    rows = {name: (round(top * n), round(bottom * n)) for name, (top, bottom) in REGIONS.items()}
    member = [frozenset(r for r, (a, b) in rows.items() if a <= y < b) for y in range(n)]
    bands = sorted(set(member) - {frozenset()}, key=member.index)
    band = np.array([bands.index(m) if m else -1 for m in member], np.int64).reshape(n, 1)
    side = np.full((1, stride), -1, np.int64)
    side[0, c0:mid], side[0, mid:c1] = 0, 1
    rest = 2 * len(bands)
    group = np.where((band >= 0) & (side >= 0), 2 * band + side, rest).ravel()
    group = group[: max(0, (n - 1) * stride + n)]
    has = np.zeros((len(CELLS), rest + 1))
    for i, (name, which) in enumerate(CELLS):
        for b, names in enumerate(bands):
            has[i, 2 * b + (which == "right")] = name in names
    count = has @ np.bincount(group, minlength=rest + 1)
    return _Layout(group * BINS, has / np.maximum(1.0, count)[:, None])


def _cell_histograms(codes: np.ndarray, layout: _Layout) -> np.ndarray:
    """float64 [cells, BINS]: the normalised histograms of flat riu2 ``codes`` laid out as
    ``layout`` says: one bincount of (group, code), each cell the sum of its groups' counts
    (the brow and eye rows overlap, so a pixel may count in two cells, as it should)."""
    counts = np.bincount(layout.bins + codes, minlength=layout.share.shape[1] * BINS)
    return layout.share @ counts.reshape(-1, BINS)


def histograms(codes: np.ndarray) -> np.ndarray:
    """float32 [LBP_DIM]: the normalised histogram of square ``codes`` (0..9) in every cell
    (``CELLS`` order)."""
    n = codes.shape[0]
    flat = np.ascontiguousarray(codes).reshape(-1)
    return _cell_histograms(flat, _layout(n, codes.shape[1])).astype(np.float32).ravel()


_SIGNS = np.array([1.0, -1.0, -1.0, 1.0])  # a box's sum from an integral image's 4 corners


@cache
def _corners(n: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per cell of ``n`` x ``n`` pixels: the flat indices of its corners (bottom-right,
    top-right, bottom-left, top-left) in the sums then the squares of a [2, n + 1, width]
    stack of integral images, and its pixel count."""
    c0, c1, mid = round(0.1 * n), round(0.9 * n), n // 2
    corners, count = [], []
    for name, side in CELLS:
        top, bottom = REGIONS[name]
        r0, r1 = round(top * n), round(bottom * n)
        x0, x1 = (c0, mid) if side == "left" else (mid, c1)
        corners.append([r1 * width + x1, r0 * width + x1, r1 * width + x0, r0 * width + x0])
        count.append(max(1, (r1 - r0) * (x1 - x0)))
    sums = np.array(corners)
    return np.stack([sums, sums + (n + 1) * width]), np.array(count, np.float64)


def contrasts(crop: np.ndarray) -> np.ndarray:
    """float32 [len(CELLS)]: the grey-level standard deviation of every cell of the crop (on
    the pixels its LBP codes describe; integral images): a face's own features (brows, eyes,
    lips) make it; a hand or an object covering a cell flattens it."""
    inner = crop[1:-1, 1:-1]
    integrals = np.empty((2, inner.shape[0] + 1, inner.shape[1] + 1))  # sums, squares
    cv2.integral2(inner, integrals[0], integrals[1], cv2.CV_64F, cv2.CV_64F)  # in place
    corners, count = _corners(inner.shape[0], integrals.shape[2])
    mean, squares = integrals.take(corners) @ _SIGNS / count  # [2, cells]
    return np.sqrt(np.maximum(squares - mean * mean, 0.0)).astype(np.float32)


def region_features(grey: np.ndarray, box: FaceBox | None) -> np.ndarray | None:
    """float32 [DIM]: one normalised LBP histogram per cell (``CELLS`` order), then each
    cell's contrast (``contrasts``); None without a face. The codes stay in the crop's own
    row layout (``_flat_codes``): its rubbish columns count in no cell."""
    if box is None:
        return None
    crop = face_crop(grey, box)
    out = np.empty(DIM, np.float32)
    codes = cv2.LUT(_flat_codes(crop), _RIU2).reshape(-1)
    out[:LBP_DIM] = _cell_histograms(codes, _layout(SIZE - 2, SIZE)).ravel()
    out[LBP_DIM:] = contrasts(crop)
    return out
