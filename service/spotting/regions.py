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


def lbp_codes(img: np.ndarray) -> np.ndarray:
    """riu2 LBP codes (0..9) of every interior pixel of a uint8 image."""
    h, w = img.shape
    centre = img[1 : h - 1, 1 : w - 1]
    code = np.zeros(centre.shape, np.uint8)
    for k, (dy, dx) in enumerate(_OFFSETS):
        # 255 where the neighbour >= the centre, its bit k kept (OpenCV: half numpy's time)
        ge: np.ndarray = cv2.compare(img[dy : dy + h - 2, dx : dx + w - 2], centre, cv2.CMP_GE)
        code |= ge & np.uint8(1 << k)
    return cv2.LUT(code, _RIU2)


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


@cache
def _layout(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``n`` x ``n`` codes: the (row, side) bin offset of every pixel (side 0 left, 1
    right, 2 outside the cells), and per cell the flat (row, side) index of its first row and
    of its end row in the cumulative per-row histograms."""
    c0, c1, mid = round(0.1 * n), round(0.9 * n), n // 2
    side = np.full(n, 2, np.int64)
    side[c0:mid], side[mid:c1] = 0, 1
    offset = (np.arange(n)[:, None] * 3 + side[None, :]) * BINS
    first, end = [], []
    for name, which in CELLS:
        top, bottom = REGIONS[name]
        s = 0 if which == "left" else 1
        first.append(round(top * n) * 3 + s)
        end.append(round(bottom * n) * 3 + s)
    return offset, np.array(first), np.array(end)


def histograms(codes: np.ndarray) -> np.ndarray:
    """float32 [DIM]: the normalised histogram of ``codes`` (0..9) in every cell (``CELLS``
    order). One bincount of (row, side, code), then the cells' row ranges summed (the brow
    and eye rows overlap, so a pixel may count in two cells, as it should)."""
    n = codes.shape[0]
    offset, first, end = _layout(n)
    per_row = np.bincount((offset + codes).ravel(), minlength=n * 3 * BINS).reshape(n, 3, BINS)
    cum = np.zeros((n + 1, 3, BINS), np.int64)
    np.cumsum(per_row, axis=0, out=cum[1:])
    flat = cum.reshape(-1, BINS)
    hist = (flat[end] - flat[first]).astype(np.float32)  # [cells, BINS]
    return (hist / np.maximum(1.0, hist.sum(axis=1, keepdims=True))).ravel()


@cache
def _corners(n: int) -> tuple[np.ndarray, ...]:
    """Per cell of ``n`` x ``n`` codes: its rows r0, r1, columns x0, x1 and pixel count."""
    c0, c1, mid = round(0.1 * n), round(0.9 * n), n // 2
    box = []
    for name, side in CELLS:
        top, bottom = REGIONS[name]
        left, right = (c0, mid) if side == "left" else (mid, c1)
        box.append((round(top * n), round(bottom * n), left, right))
    r0, r1, x0, x1 = (np.array(v) for v in zip(*box, strict=True))
    count = np.maximum(1, (r1 - r0) * (x1 - x0)).astype(np.float64)
    return r0, r1, x0, x1, count


def contrasts(crop: np.ndarray) -> np.ndarray:
    """float32 [len(CELLS)]: the grey-level standard deviation of every cell of the crop (on
    the pixels its LBP codes describe; integral images): a face's own features (brows, eyes,
    lips) make it; a hand or an object covering a cell flattens it."""
    total, squares = cv2.integral2(np.ascontiguousarray(crop[1:-1, 1:-1]), sdepth=cv2.CV_64F)
    r0, r1, x0, x1, count = _corners(crop.shape[0] - 2)

    def cell_sums(image: np.ndarray) -> np.ndarray:
        return image[r1, x1] - image[r0, x1] - image[r1, x0] + image[r0, x0]

    mean = cell_sums(total) / count
    var = cell_sums(squares) / count - mean * mean
    return np.sqrt(np.maximum(var, 0.0)).astype(np.float32)


def region_features(grey: np.ndarray, box: FaceBox | None) -> np.ndarray | None:
    """float32 [DIM]: one normalised LBP histogram per cell (``CELLS`` order), then each
    cell's contrast (``contrasts``); None without a face."""
    if box is None:
        return None
    crop = face_crop(grey, box)
    return np.concatenate([histograms(lbp_codes(crop)), contrasts(crop)])
