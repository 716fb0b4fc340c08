"""Min/max decimation: draw at most a handful of points per pixel column without ever
hiding a spike (DESIGN §4). Recomputed on every zoom/pan, so it must stay O(n) numpy.
"""

from __future__ import annotations

import numpy as np

# Below this many visible points per pixel column, drawing everything is as cheap as
# decimating and is exact.
_POINTS_PER_PIXEL = 4


def _first_in_bucket(positions: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For sorted ``positions``, the first one inside each [start, end) bucket, or -1."""
    j = np.searchsorted(positions, starts, side="left")
    found = np.full(starts.shape, -1, dtype=np.intp)
    ok = j < positions.size
    ok[ok] = positions[j[ok]] < ends[ok]
    found[ok] = positions[j[ok]]
    return found


def _last_in_bucket(positions: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For sorted ``positions``, the last one inside each [start, end) bucket, or -1."""
    j = np.searchsorted(positions, ends, side="left") - 1
    found = np.full(starts.shape, -1, dtype=np.intp)
    ok = j >= 0
    ok[ok] = positions[j[ok]] >= starts[ok]
    found[ok] = positions[j[ok]]
    return found


def _no_inf(y: np.ndarray) -> np.ndarray:
    # pyqtgraph's connect='finite' breaks the line at inf just as at NaN, but inf also
    # wrecks auto-ranging and the min/max buckets; NaN says the same thing safely.
    inf = np.isinf(y)
    if inf.any():
        y = np.where(inf, np.nan, y)
    return y


def minmax_decimate(
    x: np.ndarray,
    y: np.ndarray,
    x_range: tuple[float, float] | None,
    pixels: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The points of (x, y) worth drawing in a plot ``pixels`` columns wide.

    ``x`` must be finite and sorted ascending (non-decreasing); this is not checked,
    because checking costs a pass over the data on every pan. ``x_range`` is the visible
    x interval (None: all data).

    * The visible points plus one neighbour on each side are considered, so lines run
      to the plot edges.
    * If at most 4 * ``pixels`` points are visible they are returned as they are (a
      view into the inputs for float64 ``y``, no copy, unless inf has to be replaced).
    * Otherwise the visible points are bucketed by pixel column, and of each column
      the first, last, minimum and maximum points are kept (and the first and last
      NaN, if any, so a gap stays a gap). Kept points stay in their original order,
      so the output x is non-decreasing and the line connects as the data does.
      Min/max survive at any zoom: a single-point spike is never dropped.
    * ±inf in ``y`` is returned as NaN: with ``connect='finite'`` both break the line,
      and NaN does not poison the axis range.
    """
    if pixels < 1:
        raise ValueError(f"pixels must be >= 1, got {pixels}")
    x = np.asarray(x)
    y = np.asarray(y, dtype=np.float64)
    n = x.shape[0]
    if n == 0:
        return x[:0], y[:0]

    if x_range is None:
        x_lo, x_hi = float(x[0]), float(x[-1])
        i0, i1 = 0, n
    else:
        x_lo, x_hi = sorted((float(x_range[0]), float(x_range[1])))
        i0 = int(np.searchsorted(x, x_lo, side="left"))
        i1 = int(np.searchsorted(x, x_hi, side="right"))
    lo, hi = max(i0 - 1, 0), min(i1 + 1, n)  # one neighbour outside on each side

    if i1 - i0 <= _POINTS_PER_PIXEL * pixels:
        return x[lo:hi], _no_inf(y[lo:hi])

    yv = _no_inf(y[i0:i1])
    xv = x[i0:i1]
    # Column c holds x in [x_lo + c*w, x_lo + (c+1)*w); the last column also takes x_hi.
    # Sorted x lets searchsorted find the column boundaries in O(pixels log n).
    edges = x_lo + (x_hi - x_lo) * (np.arange(1, pixels) / pixels)
    bounds = np.concatenate(([0], np.searchsorted(xv, edges, side="left"), [xv.size]))
    starts, ends = bounds[:-1], bounds[1:]
    nonempty = ends > starts
    starts, ends = starts[nonempty], ends[nonempty]

    # fmin/fmax ignore NaN (a column with a gap still has an extreme); all-NaN -> NaN.
    with np.errstate(invalid="ignore"):
        col_min = np.fmin.reduceat(yv, starts)
        col_max = np.fmax.reduceat(yv, starts)
    counts = ends - starts
    # The index of each column's extreme: the first point equal to it. NaN never
    # compares equal, so all-NaN columns simply contribute no extreme.
    at_min = np.flatnonzero(yv == np.repeat(col_min, counts))
    at_max = np.flatnonzero(yv == np.repeat(col_max, counts))
    nan_pos = np.flatnonzero(np.isnan(yv))

    picks = [starts, ends - 1, _first_in_bucket(at_min, starts, ends),
             _first_in_bucket(at_max, starts, ends)]
    if nan_pos.size:
        picks += [_first_in_bucket(nan_pos, starts, ends),
                  _last_in_bucket(nan_pos, starts, ends)]
    # Every pick lies inside its own column and columns are in order, so sorting within
    # each column sorts everything (np.unique costs ~10x more here). -1 = "none".
    keep = np.sort(np.stack(picks, axis=1), axis=1).reshape(-1)
    distinct = np.empty(keep.size, dtype=bool)
    distinct[0] = True
    np.not_equal(keep[1:], keep[:-1], out=distinct[1:])
    keep = keep[distinct & (keep >= 0)] + i0  # original order: non-decreasing x

    if lo < i0:
        keep = np.concatenate(([lo], keep))
    if hi > i1:
        keep = np.concatenate((keep, [hi - 1]))
    y_out = y[keep]
    y_out[np.isinf(y_out)] = np.nan
    return x[keep], y_out


def extreme_candidates(y: np.ndarray, block: int = 64) -> np.ndarray:
    """Indices of the points that can matter when a pixel column spans many blocks of
    ``block`` consecutive points: each block's first, last, min, max and first/last
    NaN (±inf counts as NaN), plus the whole trailing partial block. Sorted ascending.

    Why: ``minmax_decimate`` touches every visible point, ~1 ms per 100k, which is too
    slow for 100 such runs on every pan. Computed once per series (and, when live
    points arrive, only from the last complete block on: complete blocks never
    change), ``minmax_decimate(x[c], y[c], ...)`` with ``c = extreme_candidates(y)``
    runs on ~n/10 points. Every block extreme is a candidate, so a spike still
    survives; the only loss is that a block straddling a column boundary lends its
    extreme to one of the two columns: an error below one pixel once a column holds
    several blocks. So use the candidates only when more than ``block * pixels``
    points are visible, and the raw series when zoomed in further.
    """
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    y = np.asarray(y, dtype=np.float64)
    n = y.shape[0]
    full = (n // block) * block
    tail = np.arange(full, n)
    if full == 0:
        return tail
    rows = y[:full].reshape(-1, block)
    nan = ~np.isfinite(rows)
    base = np.arange(0, full, block)
    picks = [base, base + block - 1]
    if nan.any():
        # argmin/argmax would return the NaN itself; aim them at the finite values.
        picks += [base + np.where(nan, np.inf, rows).argmin(axis=1),
                  base + np.where(nan, -np.inf, rows).argmax(axis=1),
                  base + nan.argmax(axis=1),  # first NaN (or 0 = the block's first)
                  base + block - 1 - nan[:, ::-1].argmax(axis=1)]  # last NaN
    else:
        picks += [base + rows.argmin(axis=1), base + rows.argmax(axis=1)]
    # Picks of one block stay inside it, so a per-row sort sorts them all.
    keep = np.sort(np.stack(picks, axis=1), axis=1).reshape(-1)
    distinct = np.empty(keep.size, dtype=bool)
    distinct[0] = True
    np.not_equal(keep[1:], keep[:-1], out=distinct[1:])
    return np.concatenate((keep[distinct], tail))
