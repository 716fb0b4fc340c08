"""Axis helpers for the chart panels: x-axis modes, the y range, and crosshair lookup."""

from __future__ import annotations

from typing import Literal

import numpy as np

XMode = Literal["step", "wall", "relative"]

# Fraction of the data span added on each side of the y range; TensorBoard's
# line_chart_v2 uses the same 5% (PADDING_RATIO in lib/scale.ts).
_PADDING = 0.05


def x_values(
    steps: np.ndarray, timestamps_ms: np.ndarray, mode: XMode, start_ms: int
) -> np.ndarray:
    """The x coordinates for one run's points, as float64.

    step: the logged step; wall: seconds since the Unix epoch (what pyqtgraph's
    DateAxisItem expects); relative: seconds since ``start_ms`` (the run's start).
    Wall/relative x is only sorted if the timestamps are; a chart that decimates must
    make sure of that (``minmax_decimate`` assumes sorted x).
    """
    if mode == "step":
        return np.asarray(steps, dtype=np.float64)
    ts = np.asarray(timestamps_ms)
    if mode == "wall":
        return ts / 1000.0
    if mode == "relative":
        # Subtract in integers first: epoch milliseconds are exact in int64, and the
        # difference then converts to float without losing the sub-second part.
        return (ts.astype(np.int64) - int(start_ms)) / 1000.0
    raise ValueError(f"unknown x mode {mode!r}")


def _pad(lo: float, hi: float, log_y: bool, padding: float) -> tuple[float, float]:
    if log_y:
        if lo == hi:  # TensorBoard's log scale pads a factor of 2 each way
            return lo / 2.0, hi * 2.0
        a, b = np.log10(lo), np.log10(hi)
        pad = (b - a) * padding
        return float(10 ** (a - pad)), float(10 ** (b + pad))
    if lo == hi:  # TensorBoard's rule for a flat line (lib/scale.ts niceDomain)
        if lo == 0:
            return -1.0, 1.0
        return (2.0 * lo, 0.0) if lo < 0 else (0.0, 2.0 * lo)
    pad = (hi - lo) * padding
    return lo - pad, hi + pad


def _inlier_extent(values: np.ndarray) -> tuple[float, float]:
    """min/max of the values v with q05 <= v <= q95, as TensorBoard computes them
    (d3.quantile, R-7: h = (n-1)p, q = v[floor h] + (v[floor h + 1] - v[floor h]) * frac).

    The smallest value >= q05 is one of the two order statistics q05 lies between, and
    likewise for q95, so a partial sort on four ranks replaces a full filter pass.
    q is evaluated with d3's formula so rounding decides ties exactly as in TensorBoard.
    """
    n = values.size
    ranks = []
    for p in (0.05, 0.95):
        h = (n - 1) * p
        i = int(np.floor(h))
        ranks.append((i, min(i + 1, n - 1), h - i))
    kth = sorted({r for i, j, _ in ranks for r in (i, j)})
    part = np.partition(values, kth)
    (i, j, t), (k, m, u) = ranks
    q05 = part[i] + (part[j] - part[i]) * t
    q95 = part[k] + (part[m] - part[k]) * u
    lo = part[i] if part[i] >= q05 else part[j]
    hi = part[m] if part[m] <= q95 else part[k]
    return float(lo), float(hi)


def robust_y_range(
    arrays: list[np.ndarray],
    ignore_outliers: bool,
    log_y: bool,
    padding: float = _PADDING,
) -> tuple[float, float] | None:
    """The y-axis range (in data units) that shows ``arrays``; None if nothing to show.

    Follows TensorBoard's line_chart_v2 (computeDataSeriesExtent in
    line_chart_internal_utils.ts, then niceDomain in lib/scale.ts):

    * only finite values count; with ``log_y`` only positive finite ones;
    * ``ignore_outliers`` (and more than 2 values): the 5th and 95th percentiles of
      all values pooled, R-7 interpolation (d3.quantile, numpy's default), then the
      min/max of the values inside that band. It only sets the axis: no data is
      dropped from the plot;
    * then ``padding`` (5%) of the span on each side; in log space for ``log_y``.
      TensorBoard pads log axes by a flat factor of 2 each way, which squashes a
      narrow range; we pad 5% of the decades instead (factor 2 only for a flat
      line). No d3 "nice" rounding: pyqtgraph picks its own ticks.

    With ``log_y`` pyqtgraph's ViewBox works in log10 units, so the caller sets
    ``np.log10`` of this range. Pass full-resolution data, not decimated data: the
    decimated points over-represent the extremes and would shift the percentiles.
    """
    parts = []
    for a in arrays:
        a = np.asarray(a, dtype=np.float64).reshape(-1)
        keep = np.isfinite(a)
        if log_y:
            keep &= a > 0
        if not keep.all():
            a = a[keep]
        if a.size:
            parts.append(a)
    if not parts:
        return None
    if ignore_outliers and sum(p.size for p in parts) > 2:
        lo, hi = _inlier_extent(np.concatenate(parts) if len(parts) > 1 else parts[0])
    else:
        # No need to pool (and copy) 10M values just for a min and a max.
        lo = min(float(p.min()) for p in parts)
        hi = max(float(p.max()) for p in parts)
    return _pad(lo, hi, log_y, padding)


def value_at(x: np.ndarray, y: np.ndarray, x_query: float) -> tuple[float, float] | None:
    """The logged point at or before ``x_query`` (x sorted ascending), for the
    crosshair readout; None if ``x_query`` is before the first point (or NaN).

    "At or before" rather than "nearest": the readout then never shows a value that
    was logged after the cursor's step/time. Past the last point the last point is
    returned. If several points share that x, the last one logged wins. A NaN y is
    returned as is (the readout shows the gap).
    """
    if x_query != x_query:  # NaN
        return None
    i = int(np.searchsorted(x, x_query, side="right")) - 1
    if i < 0:
        return None
    return float(x[i]), float(y[i])
