"""Min/max decimation: draw a handful of points per pixel column without ever hiding a
spike (DESIGN §4). Recomputed on every zoom/pan.

* ``minmax_decimate``: exact per-column first/last/min/max (M4) of one series,
  O(visible points): the reference the pyramid path is tested against.
* ``MinMaxPyramid`` + ``pyramid_decimate``: per series, the (x, y) of every 2**t-point
  block's min and max at every level t >= 3, built once in O(n) and extended as points
  are appended; a pan then reads one block per pixel column per series, O(pixels), for
  all the curves of a panel in one call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


# ====================================================================== min/max pyramid
#: The smallest pyramid block is 2**BASE_SHIFT points; blocks double from there.
BASE_SHIFT = 3
# The partial blocks at both ends of a view are tiled with blocks of levels this much
# finer, one after the other (up to 16 blocks a level, 64 at the finest), then points.
_EDGE_LEVELS = 4
# Below the finest pyramid level: blocks of 2**_FLY_SHIFT points made on the fly.
_FLY_SHIFT = 2


class _Rows:
    """Append-only float64 rows of 4 with spare capacity (amortised O(1) appends)."""

    __slots__ = ("buf", "n")

    def __init__(self) -> None:
        self.buf = np.empty((0, 4))
        self.n = 0

    def append(self, rows: np.ndarray) -> None:
        need = self.n + rows.shape[0]
        if need > self.buf.shape[0]:
            grown = np.empty((max(need, 2 * self.buf.shape[0], 16), 4))
            grown[: self.n] = self.buf[: self.n]
            self.buf = grown
        self.buf[self.n : need] = rows
        self.n = need

    def view(self) -> np.ndarray:
        return self.buf[: self.n]


def _block_rows(x: np.ndarray, y: np.ndarray, size: int, nonfinite: bool = True) -> np.ndarray:
    """Rows (x of min, min, x of max, max) of consecutive blocks of ``size`` points
    (``len(y)`` a multiple of ``size``); NaN/±inf ignored, a block without a finite
    value gets NaN at its first point; a tie goes to the first point."""
    if y.shape[0] <= 64 * size:  # a few blocks (live appends): fewer numpy calls
        blk = y.reshape(-1, size)
        if nonfinite:
            blk = np.where(np.isfinite(blk), blk, np.nan)
        first = np.arange(0, y.shape[0], size)
        rows = np.empty((blk.shape[0], 4))
        for k, (arg, empty) in enumerate(((np.argmin, np.inf), (np.argmax, -np.inf))):
            filled = np.where(np.isnan(blk), empty, blk) if nonfinite else blk
            at = arg(filled, axis=1)
            rows[:, 2 * k] = x[first + at]
            rows[:, 2 * k + 1] = blk[np.arange(blk.shape[0]), at]  # NaN: no value
        return rows
    # Transposed (one row per position in the block): the reductions then run along
    # contiguous rows, ~5x faster than along the short axis of the (blocks, size) view.
    cols = np.ascontiguousarray(y.reshape(-1, size).T)
    if nonfinite and np.isinf(cols).any():
        cols[np.isinf(cols)] = np.nan  # ±inf ranks as missing, like NaN
    first = np.arange(0, y.shape[0], size)
    rows = np.empty((cols.shape[1], 4))
    for k, reduce in enumerate((np.fmin, np.fmax)):
        val = reduce.reduce(cols, axis=0)
        # Index of the first point equal to the extreme: the number of leading
        # points that differ from it.
        differ = cols[0] != val
        at = differ.astype(np.intp)
        for c in cols[1:-1]:
            differ &= c != val
            at += differ
        nan = np.isnan(val)
        if nan.any():  # no value at all: NaN at the block's first point
            at[nan] = 0
        rows[:, 2 * k] = x[first + at]
        rows[:, 2 * k + 1] = val
    return rows


class MinMaxPyramid:
    """Min/max levels of one series (x sorted, y with NaN for gaps): for every level
    t >= ``BASE_SHIFT``, one row per complete block of 2**t consecutive points,
    ``(x of min, min, x of max, max)``; NaN (and ±inf) is ignored, a block without a
    finite value has NaN for both, at its first point. Plus the sorted indices of the
    non-finite points.

    Values are stored, not indices into the series, so that a pan reads contiguous
    rows: gathering a few thousand scattered points from each of 200 arrays of 800 kB
    costs ~30 ns a point in cache and TLB misses, more than all the arithmetic.
    Memory: 32 bytes per block, n/4 blocks over all levels: 8 bytes per point.

    Built in O(n) (each level from the one below) and ``extend``-ed in O(new points)
    when points are appended: complete blocks never change.
    """

    __slots__ = ("n", "_levels", "_views", "_nonfinite")

    def __init__(self, x: np.ndarray | None = None, y: np.ndarray | None = None) -> None:
        self.n = 0
        self._levels: list[_Rows] = []
        self._views: list[np.ndarray] | None = None
        self._nonfinite = np.empty(0, dtype=np.int64)
        if x is not None and y is not None:
            self.extend(x, y)

    @property
    def top(self) -> int:
        """The highest level with a complete block (BASE_SHIFT - 1: none yet)."""
        return BASE_SHIFT + len(self._levels) - 1

    def levels(self) -> list[np.ndarray]:
        """Per level from ``BASE_SHIFT`` up, its rows; row j covers the points
        [j * 2**t, (j + 1) * 2**t)."""
        if self._views is None:
            self._views = [lv.view() for lv in self._levels]
        return self._views

    def nonfinite(self) -> np.ndarray:
        """Sorted indices of the NaN/±inf points."""
        return self._nonfinite

    def nbytes(self) -> int:
        return sum(lv.buf.nbytes for lv in self._levels) + self._nonfinite.nbytes

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        """Index points ``self.n`` onwards of (x, y); the points before must be the ones
        already indexed (the series was appended to)."""
        x = np.asarray(x)
        y = np.asarray(y, dtype=np.float64)
        m, n = self.n, int(y.shape[0])
        if x.shape[0] != n:
            raise ValueError(f"x has {x.shape[0]} points, y {n}")
        if n < m:
            raise ValueError(f"cannot shrink a pyramid from {m} to {n} points")
        if n == m:
            return
        bad = ~np.isfinite(y[m:])
        if bad.any():
            self._nonfinite = np.concatenate((self._nonfinite, np.flatnonzero(bad) + m))
        self.n = n
        t = BASE_SHIFT
        size = 1 << t
        j0, j1 = m >> t, n >> t
        if j1 <= j0:
            return
        a, b = j0 << t, j1 << t
        self._append(0, _block_rows(x[a:b], y[a:b], size, bool(self._nonfinite.size)))
        # Level t, block j: the extremes of blocks 2j and 2j+1 of level t-1 (a tie keeps
        # the left one, i.e. the first occurrence).
        while True:
            t += 1
            j0, j1 = m >> t, n >> t
            if j1 <= j0:
                return
            below = self._levels[t - 1 - BASE_SHIFT].view()
            left, right = below[2 * j0 : 2 * j1 : 2], below[2 * j0 + 1 : 2 * j1 : 2]
            rows = np.empty((j1 - j0, 4))
            for c, better in ((0, np.less), (2, np.greater)):
                lv, rv = left[:, c + 1], right[:, c + 1]
                take = better(rv, lv)  # NaN = no value: take the other side's
                if self._nonfinite.size:
                    take |= np.isnan(lv) & ~np.isnan(rv)
                rows[:, c] = np.where(take, right[:, c], left[:, c])
                rows[:, c + 1] = np.where(take, rv, lv)
            self._append(t - BASE_SHIFT, rows)

    def _append(self, k: int, rows: np.ndarray) -> None:
        if k == len(self._levels):
            self._levels.append(_Rows())
        self._levels[k].append(rows)
        self._views = None


def pyramid_decimate(
    series: Sequence[tuple[np.ndarray, np.ndarray, MinMaxPyramid | None]],
    x_range: tuple[float, float] | None,
    pixels: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Decimate many series at once from their min/max pyramids: ``[(x, y), ...]`` for
    ``[(x, y, pyramid), ...]``, about two points per pixel column each.

    ``x`` sorted ascending and finite; ``pyramid`` indexes (x, y), or a longer series
    that starts with them (None: built here if needed; the caller should keep one).
    ``x_range`` None: each series' own extent.

    Per series, with ``v`` visible points: if ``v <= 4 * pixels`` the visible points plus
    one neighbour each side are returned as they are (views into the inputs, no copy).
    Otherwise the visible points are cut into consecutive "elements", and each element
    gives its minimum and its maximum, in x order (twice the same point for a single
    point; NaN, a gap, for a block without a finite value):

    * pyramid blocks of ``b = 2**t`` points, ``b`` the power of two nearest to
      ``v / pixels`` (0.7 to 1.4 blocks per pixel column, ``BLOCKS_PER_COLUMN``);
    * at both ends, finer aligned blocks and then single points, so that nothing
      outside the view leaks in, and the first and last visible points themselves;
    * below ~6 points per column, blocks of 4 made on the fly.

    Plus the neighbour just outside the view on each side (lines run to the plot
    edges), and where a block holds non-finite values, the first and last of them in
    each pixel column as NaN points (a gap stays a gap). Every kept point is a real
    point at its own x, and a spike is the extreme of its block at every level, so it
    is never hidden at any zoom. Versus exact per-column first/last/min/max (M4,
    ``minmax_decimate``), the envelope is drawn at block resolution, within 1.4 pixel
    columns, with ~2 instead of ~3.3 points per column (drawing cost is proportional
    to points). ±inf in y comes back as NaN; decimated x is float64.

    Why: a pan reads O(pixels) stored rows per series, contiguous, instead of every
    visible point, and needs no per-column reduction: a few numpy calls per series
    plus a handful on all rows together (200 curves x 100k points: ~10 ms).
    """
    if pixels < 1:
        raise ValueError(f"pixels must be >= 1, got {pixels}")
    out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(series)
    plan: list[tuple[int, int]] = []  # per piece of rows: (kind, count), in order
    pyr_pieces: list[np.ndarray] = []  # kind 1: slices of pyramid levels
    raw_x: list[np.ndarray] = []  # kind 0: single points
    raw_y: list[np.ndarray] = []
    fly_x: list[np.ndarray] = []  # kind 2: points to make blocks of 4 of
    fly_y: list[np.ndarray] = []
    batch = []  # (out index, x, y, pyramid, p0, p1, lo, hi, rows)
    for k, (x, y, pyr) in enumerate(series):
        x = np.asarray(x)
        y = np.asarray(y, dtype=np.float64)
        n = x.shape[0]
        if n == 0:
            out[k] = (x[:0], y[:0])
            continue
        if x_range is None:
            lo, hi = float(x[0]), float(x[-1])
            i0, i1 = 0, n
        else:
            lo, hi = float(x_range[0]), float(x_range[1])
            if hi < lo:
                lo, hi = hi, lo
            i0 = int(x.searchsorted(lo, side="left"))
            i1 = int(x.searchsorted(hi, side="right"))
        v = i1 - i0
        p0, p1 = max(i0 - 1, 0), min(i1 + 1, n)  # with the neighbours outside the view
        if v <= _POINTS_PER_PIXEL * pixels:
            out[k] = (x[p0:p1], _no_inf(y[p0:p1]))
            continue
        t = _level_for(v, pixels)
        if t < BASE_SHIFT:
            # 4 to ~6 points per column, finer than any pyramid level: blocks of 4 made
            # here (for all such series in one go), single points at the ends.
            m4 = i0 + 1 + ((i1 - i0 - 2) >> _FLY_SHIFT << _FLY_SHIFT)
            runs = [(-1, p0, i0 + 1), (-2, i0 + 1, m4), (-1, m4, p1)]
        else:
            if pyr is None:
                pyr = MinMaxPyramid(x, y)
            elif pyr.n < n:
                raise ValueError(f"the pyramid indexes {pyr.n} points, the series has {n}")
            t = min(t, pyr.top)
            lvls = [t]
            while lvls[-1] - BASE_SHIFT > 2 * _EDGE_LEVELS - 2:
                lvls.append(lvls[-1] - _EDGE_LEVELS)
            if t > BASE_SHIFT:
                lvls.append(BASE_SHIFT)
            # The neighbour and the first visible point alone, then level-t blocks with
            # finer ones towards both ends, then the last visible point and the other
            # neighbour.
            runs = _tile(i0 + 1, i1 - 1, lvls)
            runs[0] = (-1, p0, runs[0][2]) if runs[0][0] == -1 else runs[0]
            if runs[0][1] != p0:
                runs.insert(0, (-1, p0, i0 + 1))
            if runs[-1][0] == -1:
                runs[-1] = (-1, runs[-1][1], p1)
            else:
                runs.append((-1, i1 - 1, p1))
            levels = pyr.levels()
        rows = 0
        for lv, r0, r1 in runs:
            if r1 <= r0:
                continue
            if lv == -1:
                raw_x.append(x[r0:r1])
                raw_y.append(y[r0:r1])
                count = r1 - r0
                plan.append((0, count))
            elif lv == -2:
                fly_x.append(x[r0:r1])
                fly_y.append(y[r0:r1])
                count = (r1 - r0) >> _FLY_SHIFT
                plan.append((2, count))
            else:
                pyr_pieces.append(levels[lv - BASE_SHIFT][r0 >> lv : r1 >> lv])
                count = (r1 - r0) >> lv
                plan.append((1, count))
            rows += count
        batch.append((k, x, y, pyr, p0, p1, lo, hi, rows))
    if not batch:
        return out  # type: ignore[return-value]

    # Every element as a row (x of min, min, x of max, max), in order: single points as
    # min = max = the point, then pyramid, on-the-fly and point rows interleaved.
    made: dict[int, np.ndarray] = {}
    if raw_x:
        rx = np.concatenate(raw_x)
        made[0] = np.empty((rx.shape[0], 4))
        made[0][:, 0] = rx
        made[0][:, 1] = np.concatenate(raw_y)
        made[0][~np.isfinite(made[0][:, 1]), 1] = np.nan  # ±inf: a gap, as NaN
        made[0][:, 2:4] = made[0][:, 0:2]
    if fly_x:
        made[2] = _block_rows(np.concatenate(fly_x), np.concatenate(fly_y), 1 << _FLY_SHIFT)
    pieces = []
    at = {0: 0, 2: 0}
    it_pyr = iter(pyr_pieces)
    for kind, count in plan:
        if kind == 1:
            pieces.append(next(it_pyr))
        else:
            pieces.append(made[kind][at[kind] : at[kind] + count])
            at[kind] += count
    rows = np.concatenate(pieces) if len(pieces) > 1 else pieces[0]
    # Each row gives its min and max, in x order: two points even when they are the same
    # one (a single point, a flat block; cheaper to draw twice than to weed out), NaN
    # for a block without a value (a gap).
    xm, ym, xM, yM = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    swap = xM < xm
    px = np.empty(2 * rows.shape[0])
    py = np.empty(2 * rows.shape[0])
    np.minimum(xm, xM, out=px[0::2])
    np.maximum(xm, xM, out=px[1::2])
    py[0::2] = np.where(swap, yM, ym)
    py[1::2] = np.where(swap, ym, yM)
    ends = (2 * np.cumsum([b[8] for b in batch])).tolist()
    start = 0
    for (k, x, y, pyr, p0, p1, lo, hi, _), end in zip(batch, ends):
        xs, ys = px[start:end], py[start:end]
        start = end
        if pyr is None or pyr.nonfinite().size:
            nonfinite = pyr.nonfinite() if pyr is not None else (
                np.flatnonzero(~np.isfinite(y[p0:p1])) + p0)
            if nonfinite.size:
                xs, ys = _with_gaps(xs, ys, x, nonfinite, p0, p1, lo, hi, pixels)
        out[k] = (xs, ys)
    return out  # type: ignore[return-value]


#: Blocks per pixel column aimed at: the level whose blocks per column are nearest to
#: this (in log scale), i.e. BLOCKS_PER_COLUMN / sqrt(2) to * sqrt(2). Measured on 200
#: curves, 428 columns: 1.0 draws ~2.1 points per column, 2.0 ~3.8 points and ~1.7x
#: the painting time, for no visible difference (tests/benchmarks/charts_bench.py).
BLOCKS_PER_COLUMN = 1.0


def _level_for(visible: int, pixels: int) -> int:
    return math.floor(math.log2(visible / (pixels * BLOCKS_PER_COLUMN)) + 0.5)


def _tile(a: int, b: int, lvls: list[int]) -> list[tuple[int, int, int]]:
    """[a, b) as runs (level, start, end) of aligned blocks of the levels ``lvls``
    (coarsest first), each level filling what the coarser one left at both ends;
    single points (level -1) below the last level."""
    head: list[tuple[int, int, int]] = []
    tail: list[tuple[int, int, int]] = []
    mid_lo = mid_hi = -1  # what the runs so far cover (none yet)
    for lv in lvls:  # from the coarse middle outwards, finer and finer
        lo, hi = -(-a >> lv) << lv, b >> lv << lv
        if lo >= hi:
            continue
        if mid_lo < 0:  # the coarsest level with a whole block inside: the middle
            head.append((lv, lo, hi))
            mid_lo, mid_hi = lo, hi
            continue
        if lo < mid_lo:
            head.insert(0, (lv, lo, mid_lo))
            mid_lo = lo
        if hi > mid_hi:
            tail.append((lv, mid_hi, hi))
            mid_hi = hi
    if mid_lo < 0:
        return [(-1, a, b)] if b > a else []
    if a < mid_lo:
        head.insert(0, (-1, a, mid_lo))
    if b > mid_hi:
        tail.append((-1, mid_hi, b))
    return head + tail


def _with_gaps(xs, ys, x, nonfinite, p0, p1, lo, hi, pixels):
    """Insert NaN points for the non-finite points in [p0, p1) that blocks swallowed:
    the first and last of them in each pixel column, by x (a gap stays a gap)."""
    nf = nonfinite[np.searchsorted(nonfinite, p0) : np.searchsorted(nonfinite, p1)]
    if nf.size == 0:
        return xs, ys
    gx = x[nf].astype(np.float64)
    col = np.floor((gx - lo) * (pixels / (hi - lo))) if hi > lo else np.zeros(gx.size)
    edge = np.ones(gx.size, dtype=bool)
    edge[1:-1] = (col[1:-1] != col[:-2]) | (col[1:-1] != col[2:])
    gx = gx[edge]
    at = np.searchsorted(xs, gx, side="right")
    return np.insert(xs, at, gx), np.insert(ys, at, np.nan)
