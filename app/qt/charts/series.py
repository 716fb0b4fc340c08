"""Full-resolution series kept by the charts, and the cached ways of drawing them.

Qt-free. A ``Series`` holds the arrays the controller pushed for one (run, key); a
``Display`` is one rendering of it (x mode, smoothing weight, log y) with x sorted, plus
a lazily built min/max pyramid (``app.core.decimate.MinMaxPyramid``) so that a pan or
zoom re-decimates from about one stored block per pixel column, never from every
visible point.

Decimation (pan/zoom must stay cheap with 100 runs x 100k points): ``decimate_many``
hands every display of a panel to one ``pyramid_decimate`` call, which keeps about two
points per pixel column per curve (each column's minimum and maximum, its gaps, and the
points at the view's edges). A spike is never hidden at any zoom.

Live data: when a series is replaced by a longer one whose first points are the old
ones (``SeriesStore.set``), each display is extended instead of rebuilt: the x and log
transforms run on the new points only, the smoothing continues from the stored EMA
state, and the pyramid indexes only the new points. Smoothing therefore still runs on
the full-resolution series, and the smoothed curve's pyramid is built from the smoothed
values.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np

from app.core.axes import value_at, x_values
from app.core.decimate import MinMaxPyramid, pyramid_decimate
from app.core.growable import Growable
from app.core.smoothing import _linear_recurrence, ema_debiased

# Up to this many visible points per pixel column, decimation returns them as they are,
# so a series this short (for the panel's width) never needs a pyramid.
_DIRECT_PER_PIXEL = 4
# Displays kept per series: the smoothed and the raw one of the current settings.
_DISPLAYS_KEPT = 2
# Powers of the smoothing weight below this are taken as 0 (1 - w**k is then exactly 1;
# computing them would crawl through denormals), as in app.core.smoothing.
_TINY = 2.0**-54


class _Ema:
    """Where a debiased EMA stopped: the raw (biased) state and the number of finite
    values seen, enough to smooth appended points as if the whole series had been."""

    __slots__ = ("weight", "state", "count")

    def __init__(self, weight: float, state: float, count: int) -> None:
        self.weight, self.state, self.count = weight, state, count

    @classmethod
    def after(cls, values: np.ndarray, smoothed: np.ndarray, weight: float) -> _Ema | None:
        """The state after ``smoothed = ema_debiased(values, weight)``; None when that
        cannot be continued (a constant series is returned unsmoothed)."""
        finite = np.flatnonzero(np.isfinite(values))
        if finite.size == 0:
            return cls(weight, 0.0, 0)
        if np.all(values == values[0]):
            return None
        count = int(finite.size)  # (weight**count underflows to 0.0, no error)
        return cls(weight, float(smoothed[finite[-1]]) * (1.0 - weight**count), count)

    def smooth(self, values: np.ndarray) -> tuple[np.ndarray, _Ema]:
        """``ema_debiased`` of the whole series, for the appended ``values`` only."""
        w = self.weight
        y = np.array(values, dtype=np.float64, copy=True)
        finite = np.isfinite(y)
        f = y[finite]
        if f.size == 0:
            return y, self
        state = _linear_recurrence((1.0 - w) * f, w, self.state)
        k = self.count + np.arange(1, f.size + 1, dtype=np.float64)
        k_max = np.ceil(np.log(_TINY) / np.log(w)) if w > 0 else 0.0
        debias = np.ones(f.size)
        small = k < k_max
        debias[small] = 1.0 - np.power(w, k[small])
        y[finite] = state / debias
        return y, _Ema(w, float(state[-1]), self.count + int(f.size))


class Display:
    """One drawable rendering of a series: ``x`` sorted ascending and finite, ``y`` in
    plot units (log10 of the value when ``log_y``; NaN = gap, inf is stored as NaN)."""

    __slots__ = ("x", "y", "log_y", "ema", "_pyramid", "_ybuf")

    def __init__(self, x: np.ndarray, y: np.ndarray, log_y: bool,
                 ema: _Ema | None = None) -> None:
        inf = np.isinf(y)
        if inf.any():
            y = np.where(inf, np.nan, y)
        self.x = x
        self.y = y
        self.log_y = log_y
        self.ema = ema  # smoothing state, to extend a smoothed display (None: cannot)
        self._pyramid: MinMaxPyramid | None = None
        self._ybuf: Growable | None = None  # where y lives once appended to

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def extent(self) -> tuple[float, float] | None:
        if self.x.shape[0] == 0:
            return None
        return float(self.x[0]), float(self.x[-1])

    def pyramid(self) -> MinMaxPyramid:
        """The min/max pyramid of (x, y), built on first use, extended on append."""
        if self._pyramid is None:
            self._pyramid = MinMaxPyramid(self.x, self.y)
        elif self._pyramid.n < len(self):
            self._pyramid.extend(self.x, self.y)
        return self._pyramid

    def pyramid_if_needed(self, pixels: int) -> MinMaxPyramid | None:
        """The pyramid, or None when the series is short enough to draw as it is."""
        if len(self) <= _DIRECT_PER_PIXEL * pixels and self._pyramid is None:
            return None
        return self.pyramid()

    def appended(self, x: np.ndarray, y_new: np.ndarray, ema: _Ema | None) -> Display:
        """This display with points appended: ``x`` the whole new x (this one's x then
        the new points' x, sorted), ``y_new`` the new points' y. y grows in place when
        it can (``Growable``). The pyramid is shared and extended: it still serves this
        display too, whose points are a prefix of the new one's."""
        y_new = np.asarray(y_new, dtype=np.float64)
        inf = np.isinf(y_new)
        if inf.any():
            y_new = np.where(inf, np.nan, y_new)
        d = Display.__new__(Display)
        d.x, d.log_y, d.ema, d._pyramid = x, self.log_y, ema, self._pyramid
        d.y, d._ybuf = Growable.extend(self.y, self._ybuf, y_new)
        if d._pyramid is not None:
            d._pyramid.extend(d.x, d.y)
        return d

    def decimate(self, x_range: tuple[float, float], pixels: int) -> tuple[np.ndarray, np.ndarray]:
        """About two points per pixel column in ``x_range`` (each column's minimum and
        maximum, gaps and the points at the edges; see ``pyramid_decimate``)."""
        return decimate_many([self], x_range, pixels)[0]

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
    """``[d.decimate(x_range, pixels) for d in displays]`` in one ``pyramid_decimate``
    call: its per-call costs (a few ms of numpy on ~100k candidate rows) are paid once
    for all the curves of a panel instead of once per curve."""
    return pyramid_decimate(
        [(d.x, d.y, d.pyramid_if_needed(pixels)) for d in displays], x_range, pixels
    )


class Series:
    """The full-resolution arrays of one (run, key), as pushed (kept by reference: the
    caller must not mutate them afterwards), plus a small cache of ``Display``s."""

    __slots__ = ("steps", "values", "timestamps", "_x", "_xbuf", "_displays")

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
        self._xbuf: Growable | None = None  # where x lives once appended to
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
        self._xbuf = None
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
        ema = None
        if weight > 0:
            y = ema_debiased(self.values, weight)
            if order is None:
                ema = _Ema.after(self.values, y, weight)
        else:
            y = self.values
        if order is not None:
            y = y[order]
        disp = Display(x, _log10(y) if log_y else y, log_y, ema)
        self._displays[key] = disp
        while len(self._displays) > _DISPLAYS_KEPT:
            self._displays.popitem(last=False)
        return disp

    def adopt(self, old: Series, appended: bool = False) -> None:
        """Take over ``old``'s displays if this series is ``old`` with points appended
        (the live case), extending them by the new points only; otherwise do nothing
        (they are then rebuilt on demand). ``appended``: the caller knows the old points
        are a prefix of these (the series cache only appends), so nothing is compared and
        the cost depends on the new points alone; else one comparison pass over the old."""
        m, n = len(old), len(self)
        if old._x is None or not old._displays or n < m:
            return
        (mode, start), x_old, order = old._x
        # Only what the displays are made of has to match: values, and steps or times.
        made_of = self.steps if mode == "step" else self.timestamps
        if not appended and not (_same(self.values[:m], old.values)
                                 and _same(made_of[:m], old.steps if mode == "step" else old.timestamps)):
            return
        if order is not None:  # sorted by a permutation: appending is not a suffix
            return
        x_new = x_values(self.steps[m:], self.timestamps[m:], mode, start)  # type: ignore[arg-type]
        if x_new.size and not (np.isfinite(x_new).all() and (x_old.size == 0 or x_new[0] >= x_old[-1])
                               and not (x_new[1:] < x_new[:-1]).any()):
            return
        x, self._xbuf = Growable.extend(x_old, old._xbuf, x_new)
        self._x = ((mode, start), x, None)
        values = self.values[m:]
        for key, d in old._displays.items():
            if key[:2] != (mode, start):
                continue
            weight, log_y = key[2], key[3]
            ema = None
            if weight > 0:
                if d.ema is None:
                    continue
                y_new, ema = d.ema.smooth(values)
            else:
                y_new = values
            self._displays[key] = d.appended(x, _log10(y_new) if log_y else y_new, ema)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-for-bit equal (NaN included), ~50 us per 100k values; array_equal with
    equal_nan costs 30x that."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.itemsize in (1, 2, 4, 8) and a.dtype.kind in "fiub":
        unsigned = np.dtype(f"u{a.dtype.itemsize}")
        return bool(np.array_equal(a.view(unsigned), b.view(unsigned)))
    return bool(np.array_equal(a, b))


def _log10(y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(y > 0, y, np.nan))


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

    def set(self, run_id: str, key: str, series: Series, appended: bool = False) -> None:
        """Store ``series``; if it extends the one it replaces, it takes over that one's
        displays (``Series.adopt``; ``appended``: known to extend it)."""
        old = self._data.get((run_id, key))
        if old is not None:
            series.adopt(old, appended)
        self._data[(run_id, key)] = series

    def drop_runs(self, run_ids: Iterable[str]) -> None:
        gone = set(run_ids)
        if gone:
            self._data = {p: s for p, s in self._data.items() if p[0] not in gone}

    def drop_keys(self, keys: Iterable[str]) -> None:
        gone = set(keys)
        if gone:
            self._data = {p: s for p, s in self._data.items() if p[1] not in gone}
