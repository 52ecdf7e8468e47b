"""Face-region geometry, identical at training and at serving time.

``full`` keeps the face crop; ``upper`` keeps the eyes and brows and drops the mouth, which is
what carries no signal in a masked expression (a smile hides anger or sadness).
"""

from __future__ import annotations

import numpy as np

# Fraction of the face crop's height kept by the ``upper`` region (forehead to just below the
# eyes). On CK+48-style tight crops the eyes sit at ~40 % and the mouth starts at ~65 %.
UPPER_FRACTION = 0.55


def region_rows(height: int, region: str) -> tuple[int, int]:
    """Row range ``[top, bottom)`` of ``region`` inside a face crop of ``height`` rows."""
    if region == "full":
        return 0, height
    if region == "upper":
        return 0, max(1, round(height * UPPER_FRACTION))
    raise ValueError(f"unknown face region {region!r} (expected 'full' or 'upper')")


def crop_region(face: np.ndarray, region: str) -> np.ndarray:
    """Return the ``region`` of a face crop (any dtype, HxW or HxWxC)."""
    top, bottom = region_rows(face.shape[0], region)
    return face[top:bottom]
