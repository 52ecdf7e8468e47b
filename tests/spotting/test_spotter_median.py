"""The spotter's running median: the same values as numpy's median, faster."""

from __future__ import annotations

import numpy as np
import pytest

from service.spotting.spotter import rolling_median, window_median


@pytest.mark.parametrize("n", [1, 2, 7, 8, 73])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_window_median_is_numpys_median(n: int, dtype: type) -> None:
    rng = np.random.default_rng(n)
    windows = rng.random((40, n, 5)).astype(dtype)
    windows[3, :, 1] = 0.5  # ties
    np.testing.assert_array_equal(window_median(windows), np.median(windows, axis=1))


def test_rolling_median_against_a_plain_loop() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((200, 3)).astype(np.float32)
    half = 10
    got = rolling_median(x, half)
    for t in (0, 5, 100, 199):
        start = min(max(t - half, 0), len(x) - 1 - 2 * half)
        np.testing.assert_array_equal(got[t], np.median(x[start : start + 2 * half + 1], axis=0))
