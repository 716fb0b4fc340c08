"""The reference the decimation tests check against: every pixel column's exact min and max.

Importable from any test folder (tests/ is on sys.path through tests/conftest.py).
"""

from __future__ import annotations

import numpy as np


def column_extremes(x, y, x_range, pixels):
    """(min, max) of the finite y per pixel column of ``x_range`` (±inf where a column is empty)."""
    lo, hi = x_range
    keep = (x >= lo) & (x <= hi) & np.isfinite(y)
    col = np.minimum(((x[keep] - lo) / (hi - lo) * pixels).astype(int), pixels - 1)
    low, high = np.full(pixels, np.inf), np.full(pixels, -np.inf)
    np.minimum.at(low, col, y[keep])
    np.maximum.at(high, col, y[keep])
    return low, high
