"""Full-resolution series kept by the charts, and the cached ways of drawing them.

Qt-free. A ``Series`` holds the arrays the controller pushed for one (run, key); a
``Display`` is one rendering of it (x mode, smoothing weight, log y) with x sorted, plus
lazily built extreme-candidate levels (``app.core.decimate.extreme_candidates``) so that
re-decimating on a pan or zoom reads 4-8 points per pixel column, not every visible point.

Decimation (pan/zoom must stay cheap with 100 runs x 100k points): for a view ``pixels``
columns wide showing ``v`` points, the candidate level with blocks of ``b`` points,
``b * pixels <= v < 2 * b * pixels`` (one to two blocks per column; every block's first,
last, min and max) is the input, or the points themselves below 8 per column; then
``minmax_decimate`` keeps each column's first, last, min and max, for all series of a
layer in one call (``decimate_many``). Both steps keep every column's extremes, so a
spike is never hidden. Why decimate the candidates again instead of drawing them:
drawing is raster-bound (noisy curves zigzag across their band), and measured on 200
noisy curves at 428 px, painting the candidates (8 points/column) cost 205 ms CPU,
the minmax-decimated points (4/column) 75 ms.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np

from app.core.axes import value_at, x_values
from app.core.decimate import extreme_candidates, minmax_decimate
from app.core.smoothing import ema_debiased

#: Smallest candidate block; levels double from here (8, 16, 32, ...).
MIN_BLOCK = 8
# Up to this many visible points per pixel column, minmax_decimate returns them as they are.
_DIRECT_PER_PIXEL = 4
# Displays kept per series: the smoothed and the raw one of the current settings.
_DISPLAYS_KEPT = 2


class Display:
    """One drawable rendering of a series: ``x`` sorted ascending and finite, ``y`` in
    plot units (log10 of the value when ``log_y``; NaN = gap, inf is stored as NaN)."""

    __slots__ = ("x", "y", "log_y", "_levels")

    def __init__(self, x: np.ndarray, y: np.ndarray, log_y: bool) -> None:
        inf = np.isinf(y)
        if inf.any():
            y = np.where(inf, np.nan, y)
        self.x = x
        self.y = y
        self.log_y = log_y
        self._levels: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def extent(self) -> tuple[float, float] | None:
        if self.x.shape[0] == 0:
            return None
        return float(self.x[0]), float(self.x[-1])

    def _level(self, block: int) -> tuple[np.ndarray, np.ndarray]:
        level = self._levels.get(block)
        if level is None:
            idx = extreme_candidates(self.y, block)
            level = self._levels[block] = (self.x[idx], self.y[idx])
        return level

    def source(
        self, x_range: tuple[float, float], pixels: int
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """(x, y, visible count): the arrays to decimate for this view, i.e. the candidate
        level with one to two blocks per pixel column, or the points themselves."""
        x = self.x
        lo, hi = x_range
        visible = int(np.searchsorted(x, hi, side="right") - np.searchsorted(x, lo, side="left"))
        if visible < MIN_BLOCK * pixels:
            return x, self.y, visible
        block = MIN_BLOCK
        while visible >= 2 * block * pixels:
            block *= 2
        xc, yc = self._level(block)
        return xc, yc, visible

    def decimate(self, x_range: tuple[float, float], pixels: int) -> tuple[np.ndarray, np.ndarray]:
        """Every pixel column's first, last, min and max point in ``x_range`` (plus the
        neighbour outside on each side, so the line reaches the edges)."""
        x, y, _ = self.source(x_range, pixels)
        return minmax_decimate(x, y, x_range, pixels)

    def value_at(self, x_query: float) -> tuple[float, float] | None:
        """(x, value) of the point at or before ``x_query``, in data units (not log10)."""
        hit = value_at(self.x, self.y, x_query)
        if hit is None:
            return None
        xv, yv = hit
        return xv, (10.0**yv if self.log_y else yv)

    def sample(self, x_range: tuple[float, float] | None, max_points: int) -> np.ndarray:
        """Up to ``max_points`` y values (data units) spread evenly over ``x_range``:
        enough for percentiles, never the decimated extremes (they would bias them)."""
        if x_range is None:
            i0, i1 = 0, self.x.shape[0]
        else:
            i0 = int(np.searchsorted(self.x, x_range[0], side="left"))
            i1 = int(np.searchsorted(self.x, x_range[1], side="right"))
        stride = max(1, -(-(i1 - i0) // max(max_points, 1)))
        y = self.y[i0:i1:stride]
        return 10.0**y if self.log_y else y


def decimate_many(
    displays: Sequence[Display], x_range: tuple[float, float], pixels: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[d.decimate(x_range, pixels) for d in displays]`` with one ``minmax_decimate`` call.

    That call costs ~0.3 ms even on a few thousand points (numpy call overhead): 200
    curves took ~70 ms per pan. Here the visible points of every series needing
    decimation are laid side by side on one x axis, series k shifted by k bands of
    ``pixels`` columns plus one empty separator column, decimated together and cut
    apart again. The columns are the same as per series (up to float rounding of a
    point exactly on a column edge), hence the kept points; each series' neighbours
    just outside the view are added back.
    """
    lo, hi = float(x_range[0]), float(x_range[1])
    out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(displays)
    batch: list[tuple[int, np.ndarray, np.ndarray, int, int]] = []
    for i, d in enumerate(displays):
        x, y, visible = d.source((lo, hi), pixels)
        if visible <= _DIRECT_PER_PIXEL * pixels or hi <= lo:
            out[i] = minmax_decimate(x, y, (lo, hi), pixels)  # a cheap view, no work
            continue
        i0 = int(np.searchsorted(x, lo, side="left"))
        i1 = int(np.searchsorted(x, hi, side="right"))
        batch.append((i, x, y, i0, i1))
    if len(batch) == 1:
        i, x, y, _, _ = batch[0]
        out[i] = minmax_decimate(x, y, (lo, hi), pixels)
    elif batch:
        band = (hi - lo) * (pixels + 1) / pixels
        xd, yd = minmax_decimate(
            np.concatenate([x[i0:i1] + k * band for k, (_, x, _, i0, i1) in enumerate(batch)]),
            np.concatenate([y[i0:i1] for (_, _, y, i0, i1) in batch]),
            (lo, lo + band * len(batch)),
            (pixels + 1) * len(batch),
        )
        cuts = np.searchsorted(xd, lo + band * np.arange(1, len(batch)), side="left")
        bounds = np.concatenate(([0], cuts, [xd.size]))
        for k, (i, x, y, i0, i1) in enumerate(batch):
            xk, yk = xd[bounds[k] : bounds[k + 1]] - k * band, yd[bounds[k] : bounds[k + 1]]
            if i0 > 0 or i1 < x.size:
                pre, post = slice(max(i0 - 1, 0), i0), slice(i1, i1 + 1)
                xk = np.concatenate((x[pre], xk, x[post]))
                yk = np.concatenate((y[pre], yk, y[post]))
            out[i] = (xk, yk)
    return out  # type: ignore[return-value]


class Series:
    """The full-resolution arrays of one (run, key), as pushed (kept by reference: the
    caller must not mutate them afterwards), plus a small cache of ``Display``s."""

    __slots__ = ("steps", "values", "timestamps", "_x", "_displays")

    def __init__(self, steps: np.ndarray, values: np.ndarray, timestamps: np.ndarray) -> None:
        steps = np.asarray(steps).reshape(-1)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        timestamps = np.asarray(timestamps).reshape(-1)
        n = min(steps.shape[0], values.shape[0], timestamps.shape[0])
        if not (steps.shape[0] == values.shape[0] == timestamps.shape[0]):
            steps, values, timestamps = steps[:n], values[:n], timestamps[:n]
        self.steps = steps
        self.values = values
        self.timestamps = timestamps
        self._x: tuple[tuple, np.ndarray, np.ndarray | None] | None = None
        self._displays: OrderedDict[tuple, Display] = OrderedDict()

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def _x_for(self, mode: str, start_ms: int) -> tuple[np.ndarray, np.ndarray | None]:
        """x in ``mode``, sorted, and the index order that sorts it (None: already sorted).
        Points with a non-finite x are dropped (decimation needs finite sorted x)."""
        key = (mode, int(start_ms) if mode == "relative" else 0)
        if self._x is not None and self._x[0] == key:
            return self._x[1], self._x[2]
        x = x_values(self.steps, self.timestamps, mode, start_ms)  # type: ignore[arg-type]
        order = None
        if x.shape[0] > 1:
            finite = np.isfinite(x)
            if not finite.all():
                keep = np.flatnonzero(finite)
                order = keep[np.argsort(x[keep], kind="stable")]
            elif (x[1:] < x[:-1]).any():
                order = np.argsort(x, kind="stable")
        elif x.shape[0] == 1 and not np.isfinite(x[0]):
            order = np.empty(0, dtype=np.intp)
        if order is not None:
            x = x[order]
        self._x = (key, x, order)
        return x, order

    def display(self, mode: str, start_ms: int, weight: float, log_y: bool) -> Display:
        """The rendering for these settings; smoothing runs on the full series, in the
        order the points were logged, before any sorting or decimation."""
        x, order = self._x_for(mode, start_ms)
        key = (mode, int(start_ms) if mode == "relative" else 0, float(weight), bool(log_y))
        disp = self._displays.get(key)
        if disp is not None:
            self._displays.move_to_end(key)
            return disp
        y = ema_debiased(self.values, weight) if weight > 0 else self.values
        if order is not None:
            y = y[order]
        if log_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.log10(np.where(y > 0, y, np.nan))
        disp = Display(x, y, log_y)
        self._displays[key] = disp
        while len(self._displays) > _DISPLAYS_KEPT:
            self._displays.popitem(last=False)
        return disp


class SeriesStore:
    """Series by (run_id, key)."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], Series] = {}

    def __contains__(self, pair: object) -> bool:
        return pair in self._data

    def __len__(self) -> int:
        return len(self._data)

    def get(self, run_id: str, key: str) -> Series | None:
        return self._data.get((run_id, key))

    def set(self, run_id: str, key: str, series: Series) -> None:
        self._data[(run_id, key)] = series

    def drop_runs(self, run_ids: Iterable[str]) -> None:
        gone = set(run_ids)
        if gone:
            self._data = {p: s for p, s in self._data.items() if p[0] not in gone}

    def drop_keys(self, keys: Iterable[str]) -> None:
        gone = set(keys)
        if gone:
            self._data = {p: s for p, s in self._data.items() if p[1] not in gone}
