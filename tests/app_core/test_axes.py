"""X modes, the y range (TensorBoard's outlier rule) and the crosshair lookup."""

import numpy as np
import pytest

from app.core.axes import robust_y_range, value_at, x_values

START = 1_700_000_000_000  # epoch ms


def test_x_values_modes():
    steps = np.array([0, 10, 20], dtype=np.int64)
    ts = np.array([START, START + 1500, START + 60_001], dtype=np.int64)
    step_x = x_values(steps, ts, "step", START)
    assert step_x.dtype == np.float64 and step_x.tolist() == [0, 10, 20]
    wall = x_values(steps, ts, "wall", START)
    assert wall.tolist() == [1_700_000_000.0, 1_700_000_001.5, 1_700_000_060.001]
    assert x_values(steps, ts, "relative", START).tolist() == [0.0, 1.5, 60.001]
    assert x_values(steps, ts, "relative", START - 2000).tolist() == [2.0, 3.5, 62.001]
    with pytest.raises(ValueError):
        x_values(steps, ts, "epoch", START)  # type: ignore[arg-type]


def test_y_range_plain_is_padded_extent():
    arrays = [np.array([1.0, 3.0]), np.array([2.0, 5.0, np.nan, np.inf])]
    lo, hi = robust_y_range(arrays, False, False)
    assert (lo, hi) == pytest.approx((1.0 - 0.2, 5.0 + 0.2))  # 5% of the span 4


def test_y_range_ignores_outliers_like_tensorboard():
    values = np.arange(101, dtype=float)
    values[100] = 1e6  # 0..99 and one outlier
    a, b = np.split(values, [40])  # pooled across series
    lo, hi = robust_y_range([a, b], True, False)
    # R-7 on 101 values: q05 = sorted[5], q95 = sorted[95], no interpolation needed.
    q05, q95 = np.percentile(values, [5, 95])
    assert (q05, q95) == (5.0, 95.0)
    assert (lo, hi) == pytest.approx((5.0 - 4.5, 95.0 + 4.5))
    # Without the option, the outlier sets the range.
    assert robust_y_range([a, b], False, False)[1] > 1e6


def test_y_range_outlier_band_uses_data_points_inside():
    # Quantiles interpolate between points; the range is that of the points inside.
    values = np.array([0.0, 10.0, 20.0, 30.0, 1000.0])
    q05, q95 = np.percentile(values, [5, 95])  # 2.0, 806.0
    assert (q05, q95) == pytest.approx((2.0, 806.0))
    lo, hi = robust_y_range([values], True, False, padding=0.0)
    assert (lo, hi) == (10.0, 30.0)
    # Two values or fewer: no filtering (TensorBoard needs more than 2).
    assert robust_y_range([np.array([0.0, 1000.0])], True, False, padding=0.0) == (0.0, 1000.0)


def test_y_range_log():
    lo, hi = robust_y_range([np.array([-1.0, 0.0, 0.01, 100.0, np.nan])], False, True)
    # Positive values only; 5% of the 4 decades each side.
    assert np.log10(lo) == pytest.approx(-2.2) and np.log10(hi) == pytest.approx(2.2)
    assert robust_y_range([np.array([-1.0, 0.0])], False, True) is None
    assert robust_y_range([np.array([4.0, 4.0])], False, True) == (2.0, 8.0)


def test_y_range_flat_and_empty():
    assert robust_y_range([np.full(3, 2.0)], False, False) == (0.0, 4.0)
    assert robust_y_range([np.full(3, -2.0)], True, False) == (-4.0, 0.0)
    assert robust_y_range([np.zeros(3)], False, False) == (-1.0, 1.0)
    assert robust_y_range([], True, False) is None
    assert robust_y_range([np.array([np.nan, np.inf]), np.array([])], True, False) is None


def test_value_at():
    x = np.array([0.0, 10.0, 10.0, 20.0])
    y = np.array([1.0, 2.0, 3.0, np.nan])
    assert value_at(x, y, -0.1) is None
    assert value_at(x, y, 0.0) == (0.0, 1.0)
    assert value_at(x, y, 9.99) == (0.0, 1.0)
    assert value_at(x, y, 10.0) == (10.0, 3.0)  # the last point logged at that x
    assert value_at(x, y, 15.0) == (10.0, 3.0)
    vx, vy = value_at(x, y, 1e9)
    assert vx == 20.0 and np.isnan(vy)
    assert value_at(x, y, float("nan")) is None
    assert value_at(np.array([]), np.array([]), 1.0) is None


def d3_reference_extent(arrays):
    """TensorBoard's computeDataSeriesExtent (y part): sort, d3.quantile, filter."""
    v = sorted(float(a) for arr in arrays for a in arr if np.isfinite(a))
    n = len(v)
    if n > 2:
        def quantile(p):
            h = (n - 1) * p
            i = int(np.floor(h))
            j = min(i + 1, n - 1)
            return v[i] + (v[j] - v[i]) * (h - i)
        a, b = quantile(0.05), quantile(0.95)
        v = [x for x in v if a <= x <= b]
    return v[0], v[-1]


def test_y_range_outliers_match_d3_reference_on_random_data():
    rng = np.random.default_rng(7)
    for _ in range(500):
        arrays = []
        for _ in range(rng.integers(1, 4)):
            n = int(rng.integers(0, 60))
            # Many ties (integers) and heavy tails (Cauchy) both stress the band edges.
            if rng.random() < 0.5:
                a = rng.integers(-5, 5, size=n).astype(float)
            else:
                a = rng.standard_cauchy(n)
            if n and rng.random() < 0.3:
                a[rng.integers(0, n)] = np.nan
            arrays.append(a)
        got = robust_y_range(arrays, True, False, padding=0.0)
        if not any(np.isfinite(a).any() for a in arrays):
            assert got is None
            continue
        lo, hi = d3_reference_extent(arrays)
        if lo != hi:  # a flat extent gets TensorBoard's flat-line range instead
            assert got == (lo, hi)
