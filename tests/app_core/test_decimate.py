"""Min/max decimation never hides a spike and keeps lines and gaps drawn right."""

import numpy as np
import pytest

from app.core.decimate import BASE_SHIFT, MinMaxPyramid, minmax_decimate, pyramid_decimate
from decimation_oracle import column_extremes

N = 1_000_000
SPIKE_AT = 123_457


@pytest.fixture(scope="module")
def spiky():
    rng = np.random.default_rng(0)
    x = np.arange(N, dtype=np.float64)
    y = rng.normal(size=N)
    y[SPIKE_AT] = 1e3
    y[SPIKE_AT + 400_000] = -1e3
    return x, y


def reference_columns(x, y, x_range, pixels):
    """Per pixel column (visible points only): (min, max) by a plain loop."""
    lo, hi = x_range
    cols = {}
    for xi, yi in zip(x, y):
        if lo <= xi <= hi and np.isfinite(yi):
            c = min(int((xi - lo) / (hi - lo) * pixels), pixels - 1)
            a, b = cols.get(c, (yi, yi))
            cols[c] = (min(a, yi), max(b, yi))
    return cols


@pytest.mark.parametrize(
    "x_range",
    [None, (0, N - 1), (100_000, 200_000), (SPIKE_AT - 5000, SPIKE_AT + 3),
     (SPIKE_AT, SPIKE_AT + 1e5), (SPIKE_AT - 50_000.5, SPIKE_AT + 0.5), (-1e7, 1e7)],
)
@pytest.mark.parametrize("pixels", [1, 7, 300, 1920])
def test_spike_survives_any_zoom(spiky, x_range, pixels):
    x, y = spiky
    xo, yo = minmax_decimate(x, y, x_range, pixels)
    assert 1e3 in yo
    assert xo[yo == 1e3][0] == SPIKE_AT
    assert np.all(np.diff(xo) >= 0)
    if x_range is None or x_range[1] >= SPIKE_AT + 400_000:
        assert -1e3 in yo


def test_decimation_bounds_output_size(spiky):
    x, y = spiky
    xo, _ = minmax_decimate(x, y, None, 1000)
    assert len(xo) <= 4 * 1000 + 2


def test_column_extremes_match_reference():
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.random(20_000))  # uneven spacing
    y = rng.normal(size=x.size)
    x_range, pixels = (x[3000] + 0.3, x[17000] - 0.2), 50
    xo, yo = minmax_decimate(x, y, x_range, pixels)
    inside = (xo >= x_range[0]) & (xo <= x_range[1])
    got = reference_columns(xo[inside], yo[inside], x_range, pixels)
    assert got == reference_columns(x, y, x_range, pixels)


def test_small_visible_slice_returned_as_view():
    x = np.arange(100.0)
    y = np.sin(x)
    xo, yo = minmax_decimate(x, y, (10, 20), pixels=10)
    # Visible 10..20 plus one neighbour on each side, untouched and not copied.
    np.testing.assert_array_equal(xo, np.arange(9.0, 22.0))
    assert np.shares_memory(xo, x) and np.shares_memory(yo, y)


def test_neighbours_outside_the_range_are_kept():
    x = np.arange(10_000.0)
    y = np.zeros_like(x)
    xo, _ = minmax_decimate(x, y, (1000.5, 8000.5), pixels=10)
    assert xo[0] == 1000 and xo[-1] == 8001  # run to both edges
    assert np.all((xo[1:-1] >= 1000.5) & (xo[1:-1] <= 8000.5))
    # Range at the very start/end of the data: no neighbour to add, no error.
    xo, _ = minmax_decimate(x, y, (0, 9999), pixels=10)
    assert xo[0] == 0 and xo[-1] == 9999


def test_first_and_last_of_each_column_kept():
    # 2 columns x 100 points; extremes in the middle, so first/last are extra points.
    x = np.arange(200.0)
    y = np.zeros(200)
    y[50], y[60], y[150], y[160] = 5, -5, 7, -7
    xo, yo = minmax_decimate(x, y, (0, 199.999), pixels=2)
    assert xo.tolist() == [0, 50, 60, 99, 100, 150, 160, 199]
    assert yo.tolist() == [0, 5, -5, 0, 0, 7, -7, 0]


def test_nan_gap_kept():
    x = np.arange(10_000.0)
    y = np.ones_like(x)
    y[5003] = np.nan  # one gap inside one column
    y[7000:7100] = np.nan  # a whole gap spanning columns
    xo, yo = minmax_decimate(x, y, None, pixels=20)
    assert 5003 in xo[np.isnan(yo)]
    nan_x = xo[np.isnan(yo)]
    assert np.any((nan_x >= 7000) & (nan_x < 7100))
    # The line is broken in the right place: a NaN sits between the neighbours.
    i = np.flatnonzero(xo == 5003)[0]
    assert xo[i - 1] < 5003 < xo[i + 1]


def test_nan_between_extremes_keeps_both_breaks():
    x = np.arange(1000.0)
    y = np.zeros(1000)
    y[100], y[200], y[300], y[400] = np.nan, 9, np.nan, -9
    xo, yo = minmax_decimate(x, y, None, pixels=1)
    assert xo.tolist() == [0, 100, 200, 300, 400, 999]


def test_inf_becomes_nan():
    x = np.arange(10_000.0)
    y = np.zeros_like(x)
    y[10], y[20] = np.inf, -np.inf
    for pixels in (5, 10_000):  # decimated and pass-through paths
        xo, yo = minmax_decimate(x, y, None, pixels)
        assert not np.isinf(yo).any()
        assert {10, 20} <= set(xo[np.isnan(yo)].tolist())
    assert np.isinf(y[10])  # input untouched


def test_all_nan_and_empty_and_degenerate():
    x = np.arange(5000.0)
    xo, yo = minmax_decimate(x, np.full(5000, np.nan), None, 10)
    assert len(xo) > 0 and np.isnan(yo).all()
    xo, yo = minmax_decimate(np.array([]), np.array([]), (0, 1), 10)
    assert xo.size == 0 and yo.size == 0
    # Zero-width and reversed ranges.
    xo, _ = minmax_decimate(x, np.zeros(5000), (10, 10), 10)
    assert xo.tolist() == [9, 10, 11]
    xo1, _ = minmax_decimate(x, np.zeros(5000), (4000, 1000), 10)
    xo2, _ = minmax_decimate(x, np.zeros(5000), (1000, 4000), 10)
    np.testing.assert_array_equal(xo1, xo2)
    # No visible point, but neighbours on both sides: the line crosses the view.
    xo, _ = minmax_decimate(np.array([0.0, 10.0]), np.array([1.0, 2.0]), (2, 3), 10)
    assert xo.tolist() == [0, 10]
    with pytest.raises(ValueError):
        minmax_decimate(x, x, None, 0)


def test_repeated_x_values():
    x = np.repeat(np.arange(1000.0), 10)  # several points per step
    y = np.arange(x.size, dtype=float) % 7
    y[5555] = 100
    xo, yo = minmax_decimate(x, y, None, 30)
    assert 100 in yo and np.all(np.diff(xo) >= 0)


def test_integer_x():
    x = np.arange(50_000, dtype=np.int64)
    y = np.zeros(50_000)
    y[31_337] = -4
    xo, yo = minmax_decimate(x, y, (0, 49_999), 100)
    assert -4 in yo and xo.dtype == np.int64


# ---------------------------------------------------------------- min/max pyramid
def brute_levels(x, y):
    """Per level: (x of min, min, x of max, max) of each complete block, by brute force;
    non-finite values ignored, a block without a finite value gives NaN at its first x."""
    finite = np.isfinite(y)
    out = []
    t = BASE_SHIFT
    while (y.size >> t) > 0:
        b, m = 1 << t, y.size >> t
        lo = np.where(finite, y, np.inf)[: m * b].reshape(m, b)
        hi = np.where(finite, y, -np.inf)[: m * b].reshape(m, b)
        base = np.arange(m) * b
        none = np.isinf(lo.min(1)) & ~finite[: m * b].reshape(m, b).any(1)
        out.append(np.stack([x[base + lo.argmin(1)], np.where(none, np.nan, lo.min(1)),
                             x[base + hi.argmax(1)], np.where(none, np.nan, hi.max(1))],
                            axis=1))
        t += 1
    return out


def gappy(n, seed=0):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.random(n) * 3) + 0.25  # uneven, off the integer grid
    y = np.cumsum(rng.standard_normal(n))
    y[rng.integers(0, n, 30)] = np.nan
    y[rng.integers(0, n, 3)] = np.inf
    y[rng.integers(0, n, 3)] = -np.inf
    y[1000:1100] = np.nan  # whole blocks without a value
    return x, y


def test_pyramid_levels_match_brute_force():
    x, y = gappy(50_003)
    pyr = MinMaxPyramid(x, y)
    expected = brute_levels(x, y)
    assert len(pyr.levels()) == len(expected) and pyr.top == BASE_SHIFT + len(expected) - 1
    for got, want in zip(pyr.levels(), expected):
        np.testing.assert_array_equal(got, want)  # x: the first point equal to it
    np.testing.assert_array_equal(pyr.nonfinite(), np.flatnonzero(~np.isfinite(y)))
    assert pyr.nbytes() < 12 * y.size  # ~8 bytes a point


def test_pyramid_extended_in_pieces_equals_built_at_once():
    x, y = gappy(40_000, seed=1)
    whole = MinMaxPyramid(x, y)
    grown = MinMaxPyramid()
    rng = np.random.default_rng(2)
    n = 0
    while n < y.size:  # single points, partial blocks, many blocks at once
        n = min(y.size, n + int(rng.choice([1, 3, 7, 8, 100, 5000])))
        grown.extend(x[:n], y[:n])
        assert grown.n == n
    for a, b in zip(grown.levels(), whole.levels(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(grown.nonfinite(), whole.nonfinite())
    with pytest.raises(ValueError):
        grown.extend(x[:10], y[:10])


def check_pyramid_output(x, y, xo, yo, x_range, pixels):
    """What pyramid_decimate promises, checked against the data."""
    lo, hi = (x[0], x[-1]) if x_range is None else sorted(x_range)
    assert np.all(np.diff(xo) >= 0)
    assert not np.isinf(yo).any()
    # Every finite output point is a real point.
    at = np.searchsorted(x, xo[np.isfinite(yo)])
    assert np.all(x[np.minimum(at, x.size - 1)] == xo[np.isfinite(yo)])
    # Runs to the edges: the neighbours outside the view, else the first/last point.
    i0, i1 = np.searchsorted(x, lo), np.searchsorted(x, hi, side="right")
    assert xo[0] == x[max(i0 - 1, 0)] and xo[-1] == x[min(i1, x.size - 1)]
    # Every column's extremes are drawn within a block (under 1.5 columns) of it, and
    # the view's extremes exactly.
    low, high = column_extremes(x, y, (lo, hi), pixels)
    inside = (xo >= lo) & (xo <= hi) & np.isfinite(yo)
    got_low, got_high = column_extremes(xo[inside], yo[inside], (lo, hi), pixels)
    pad = np.full(2, np.inf)
    near_low = np.minimum.reduce([np.concatenate((pad, got_low, pad))[k : k + pixels]
                                  for k in range(5)])
    near_high = np.maximum.reduce([np.concatenate((-pad, got_high, -pad))[k : k + pixels]
                                   for k in range(5)])
    assert np.all(near_low <= low) and np.all(near_high >= high)
    assert got_low.min() == low.min() and got_high.max() == high.max()


@pytest.mark.parametrize(
    "x_range",
    [None, (0, N - 1), (100_000, 200_000), (SPIKE_AT - 5000, SPIKE_AT + 3),
     (SPIKE_AT, SPIKE_AT + 1e5), (SPIKE_AT - 50_000.5, SPIKE_AT + 0.5), (-1e7, 1e7),
     (SPIKE_AT - 1500, SPIKE_AT + 1500)],
)
@pytest.mark.parametrize("pixels", [7, 300, 1920])
def test_pyramid_spike_survives_any_zoom(spiky, spiky_pyramid, x_range, pixels):
    x, y = spiky
    (xo, yo), = pyramid_decimate([(x, y, spiky_pyramid)], x_range, pixels)
    assert 1e3 in yo and xo[yo == 1e3][0] == SPIKE_AT
    if x_range is None or x_range[1] >= SPIKE_AT + 400_000:
        assert -1e3 in yo
    check_pyramid_output(x, y, xo, yo, x_range, pixels)
    assert len(xo) <= 3 * pixels + 300  # ~2 per column, plus the finer blocks at the ends


@pytest.fixture(scope="module")
def spiky_pyramid(spiky):
    return MinMaxPyramid(*spiky)


def test_pyramid_spike_survives_live_append():
    """Appended points: a spike in a complete block, one in the partial tail block,
    one arriving alone; each visible at every zoom right after its append."""
    rng = np.random.default_rng(4)
    n = 300_000
    x = np.arange(n, dtype=np.float64)
    y = rng.standard_normal(n)
    spikes = {150_007: 50.0, 299_990: -60.0, 299_999: 70.0}
    for at, v in spikes.items():
        y[at] = v
    pyr = MinMaxPyramid(x[:100_000], y[:100_000])
    for m in (150_003, 150_008, 200_000, 299_991, 299_999, 300_000):
        pyr.extend(x[:m], y[:m])
        for at, v in spikes.items():
            if at >= m:
                continue
            for x_range in [None, (0, m), (at - 40_000.5, at + 3), (at - 700, at + 700)]:
                for pixels in (100, 800):
                    (xo, yo), = pyramid_decimate([(x[:m], y[:m], pyr)], x_range, pixels)
                    assert v in yo and xo[yo == v][0] == at, (m, at, x_range, pixels)
                    check_pyramid_output(x[:m], y[:m], xo, yo, x_range, pixels)


def test_pyramid_gaps_stay_gaps():
    x, y = gappy(200_000, seed=3)
    pyr = MinMaxPyramid(x, y)
    for x_range in [None, (x[20_000], x[120_000]), (x[900], x[1300])]:
        (xo, yo), = pyramid_decimate([(x, y, pyr)], x_range, 300)
        xe, ye = minmax_decimate(x, y, x_range, 300)
        check_pyramid_output(x, y, xo, yo, x_range, 300)
        # A NaN in every pixel column where the exact decimation has one.
        lo, hi = (x[0], x[-1]) if x_range is None else x_range
        def nan_cols(xs, ys):
            xs = xs[np.isnan(ys) & (xs >= lo) & (xs <= hi)]
            return set(np.minimum(((xs - lo) / (hi - lo) * 300).astype(int), 299).tolist())
        assert nan_cols(xo, yo) == nan_cols(xe, ye)
        # The 100-point gap splits the line: no segment joins its two sides.
        if lo < x[1000] and hi > x[1100]:
            before = np.flatnonzero(xo < x[1000])[-1]
            assert np.isnan(yo[before + 1])


def test_pyramid_many_series_at_once_same_as_one_by_one():
    rng = np.random.default_rng(5)
    items = []
    for k in range(12):
        n = int(rng.integers(10, 80_000))
        x = np.sort(rng.choice(200_000, n, replace=False)).astype(np.float64) + 0.37
        y = np.cumsum(rng.standard_normal(n))
        if k % 3 == 0:
            y[rng.integers(0, n, 3)] = np.nan
        items.append((x, y, MinMaxPyramid(x, y) if k % 2 else None))
    for x_range in [(0.0, 200_000.0), (50_000.0, 70_000.0), (-5e4, 3e5), (1e6, 2e6), None]:
        for pixels in (100, 400):
            together = pyramid_decimate(items, x_range, pixels)
            for item, (xo, yo) in zip(items, together):
                (xs, ys), = pyramid_decimate([item], x_range, pixels)
                np.testing.assert_array_equal(xo, xs)
                np.testing.assert_array_equal(yo, ys)
                if len(item[0]) and x_range != (1e6, 2e6):
                    check_pyramid_output(item[0], item[1], xo, yo, x_range, pixels)


def test_pyramid_short_views_are_returned_as_they_are():
    x = np.arange(10_000.0)
    y = np.sin(x)
    (xo, yo), = pyramid_decimate([(x, y, None)], (100, 500), pixels=200)
    np.testing.assert_array_equal(xo, np.arange(99.0, 502.0))  # plus the neighbours
    assert np.shares_memory(xo, x) and np.shares_memory(yo, y)
    # 4 to ~6 points per column: blocks of 4 made on the fly, no pyramid needed.
    y[3333] = 9.0
    (xo, yo), = pyramid_decimate([(x, y, None)], (2000, 4400), pixels=500)
    assert len(xo) < 2400 / 1.5 and 9.0 in yo
    check_pyramid_output(x, y, xo, yo, (2000, 4400), 500)


def test_pyramid_degenerate_inputs():
    x = np.arange(5000.0)
    y = np.zeros(5000)
    y[10], y[20] = np.inf, -np.inf
    (xo, yo), = pyramid_decimate([(x, y, None)], None, 10)
    assert not np.isinf(yo).any() and {10, 20} <= set(xo[np.isnan(yo)].tolist())
    (xo, yo), = pyramid_decimate([(x, np.full(5000, np.nan), None)], None, 10)
    assert np.isnan(yo).all() and len(xo) > 0
    empty = pyramid_decimate([(x[:0], y[:0], None)], (0, 1), 10)[0]
    assert empty[0].size == 0
    a = pyramid_decimate([(x, y, None)], (4000, 100), 10)[0]
    b = pyramid_decimate([(x, y, None)], (100, 4000), 10)[0]
    np.testing.assert_array_equal(a[0], b[0])
    (xo, _), = pyramid_decimate([(x, y, None)], (10, 10), 10)
    assert xo.tolist() == [9, 10, 11]
    pyr = MinMaxPyramid(x[:100], y[:100])
    with pytest.raises(ValueError):
        pyramid_decimate([(x, y, pyr)], None, 10)  # indexes fewer points than given
    with pytest.raises(ValueError):
        pyramid_decimate([(x, y, None)], None, 0)
