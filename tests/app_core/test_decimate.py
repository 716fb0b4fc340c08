"""Min/max decimation never hides a spike and keeps lines and gaps drawn right."""

import numpy as np
import pytest

from app.core.decimate import extreme_candidates, minmax_decimate

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


def test_candidates_keep_every_block_extreme(spiky):
    x, y = spiky
    c = extreme_candidates(y, block=64)
    assert np.all(np.diff(c) > 0) and c[0] == 0 and c[-1] == N - 1
    assert SPIKE_AT in c and SPIKE_AT + 400_000 in c
    assert c.size < N / 8
    for x_range in (None, (SPIKE_AT - 1e5, SPIKE_AT + 1e5)):
        _, yo = minmax_decimate(x[c], y[c], x_range, 500)
        assert 1e3 in yo
    # Per block: min and max of the candidates equal the block's.
    blocks = y[: N // 64 * 64].reshape(-1, 64)
    block_of = c // 64
    inside = block_of < blocks.shape[0]
    first_of_block = np.searchsorted(block_of[inside], np.arange(blocks.shape[0]))
    np.testing.assert_array_equal(
        np.maximum.reduceat(y[c][inside], first_of_block), blocks.max(axis=1)
    )
    np.testing.assert_array_equal(
        np.minimum.reduceat(y[c][inside], first_of_block), blocks.min(axis=1)
    )


def test_candidates_with_nan_and_tail():
    y = np.arange(130.0)
    y[3] = np.nan
    y[70] = np.inf
    c = extreme_candidates(y, block=64)
    assert {3, 70} <= set(c.tolist())  # non-finite points are kept as gaps
    assert list(c[-2:]) == [128, 129]  # partial tail block kept whole
    assert extreme_candidates(np.array([1.0, 2.0]), 64).tolist() == [0, 1]
    assert extreme_candidates(np.array([]), 64).size == 0
