"""Grouped runs in the chart panels: one line per group (mean or median) with a band.

Each member run is smoothed on its full-resolution series first and the smoothed curves
are aggregated (``app.core.grouping.aggregate_band``), as TensorBoard and W&B do: the
band shows the spread of what the single-run curves would show. Per group, the band of
unchanged members is reused, so a live update recomputes only the group whose member
grew. Drawn as translucent ``FillBetweenItem``s reduced to the panel's pixel columns.
Where it is computed (redraw or worker thread): ``app.qt.charts.grouped``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer

from app.core.axes import robust_y_range, x_values
from app.core.grouping import Band, aggregate_band, group_runs
from app.core.smoothing import ema_debiased
from app.qt.charts.series import Display

#: Band fill opacity on a light and on a dark background.
BAND_ALPHA = {"light": 0.2, "dark": 0.28}
GROUP_PREFIX = "group:"

GroupKey = tuple


class _NoInfo(NamedTuple):  # a run the view has no RunInfo for: no params, no tags
    id: str
    params: Mapping[str, str] = {}
    tags: Mapping[str, str] = {}


def partition(run_ids: Sequence[str], infos: Mapping[str, Any], by: Sequence[str]
              ) -> dict[GroupKey, list[str]]:
    """Run ids per group key, groups in natural order (``group_runs``)."""
    return group_runs([infos.get(r) or _NoInfo(r) for r in run_ids], by)


def group_fields(infos: Sequence[Any]) -> list[str]:
    """Every ``params.<k>`` then ``tags.<k>`` the runs have, each sorted."""
    params = sorted({k for r in infos for k in r.params}, key=str.casefold)
    tags = sorted({k for r in infos for k in r.tags}, key=str.casefold)
    return [f"params.{k}" for k in params] + [f"tags.{k}" for k in tags]


def member_xy(series: Any, x_axis: str, start_ms: int, weight: float
              ) -> tuple[np.ndarray, np.ndarray]:
    """(x sorted, y) of one member: smoothed in logged order, then sorted by x; points
    with a non-finite x dropped, infinities as NaN (missing)."""
    x = x_values(series.steps, series.timestamps, x_axis, start_ms)  # type: ignore[arg-type]
    y = ema_debiased(series.values, weight) if weight > 0 else np.asarray(series.values, float)
    finite = np.isfinite(x)
    if not finite.all():
        x, y = x[finite], y[finite]
    if x.size > 1 and (x[1:] < x[:-1]).any():
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    inf = np.isinf(y)
    if inf.any():
        y = np.where(inf, np.nan, y)
    return x, y


class Spec(NamedTuple):
    """What one panel's groups are computed from. Series compare by identity (a live
    append replaces a member's Series), and by length in case one ever grows in place."""

    params: tuple  # (x_axis, smoothing, center, band, group_by)
    groups: tuple  # ((group key, ((run_id, start_ms, Series, its length), ...)), ...)


def compute(spec: Spec, cache: dict | None) -> tuple[list[tuple[GroupKey, tuple, Band]], dict]:
    """Each group's band; reuses ``cache`` (a previous call's second result) for groups
    whose members did not change. Pure and thread-safe (reads immutable arrays only)."""
    x_axis, weight, center, band, _ = spec.params
    old = cache["groups"] if cache and cache["params"] == spec.params else {}
    new: dict = {}
    out = []
    for gk, members in spec.groups:
        hit = old.get(gk)
        if hit is not None and hit[0] == members:
            b = hit[1]
        else:
            xy = [member_xy(s, x_axis, start, weight) for _, start, s, _ in members]
            b = aggregate_band(xy, center=center, band=band)
        new[gk] = (members, b)
        out.append((gk, tuple(m[0] for m in members), b))
    return out, {"params": spec.params, "groups": new}


@dataclass(eq=False)
class GroupLine:
    """One drawn group: ``band`` in data units over x in plot units."""

    id: str
    label: str  # "lr=0.001, depth=4"
    color: str
    run_ids: tuple[str, ...]
    band: Band
    _displays: dict = field(default_factory=dict)

    @property
    def legend(self) -> str:
        return f"{self.label} (n={self.band.n_runs})"

    def display(self, log_y: bool) -> Display:
        """The centre line as the panels draw it (log10 of the values for a log axis)."""
        d = self._displays.get(log_y)
        if d is None:
            d = self._displays[log_y] = Display(self.band.x, _to_plot(self.band.center, log_y),
                                                log_y)
        return d


def _to_plot(y: np.ndarray, log_y: bool) -> np.ndarray:
    if not log_y:
        return y
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(y > 0, y, np.nan))


def envelope(x: np.ndarray, lower: np.ndarray, upper: np.ndarray,
             x_range: tuple[float, float], pixels: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The band reduced to one point per pixel column (lowest lower, highest upper, so it
    never looks narrower than it is) in ``x_range`` plus a neighbour outside each side;
    columns without a finite bound are dropped."""
    lo, hi = x_range
    i0 = max(int(np.searchsorted(x, lo, side="left")) - 1, 0)
    i1 = min(int(np.searchsorted(x, hi, side="right")) + 1, x.shape[0])
    xs, ls, us = x[i0:i1], lower[i0:i1], upper[i0:i1]
    if xs.size > 2 * pixels and hi > lo:
        col = np.clip(np.floor((xs - lo) * (pixels / (hi - lo))), -1, pixels).astype(np.int64)
        starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
        ends = np.r_[starts[1:], xs.size] - 1
        xs = 0.5 * (xs[starts] + xs[ends])
        ls, us = np.fmin.reduceat(ls, starts), np.fmax.reduceat(us, starts)
    keep = np.isfinite(ls) & np.isfinite(us)
    if not keep.all():
        xs, ls, us = xs[keep], ls[keep], us[keep]
    return xs, ls, us


class BandOverlay:
    """A panel's translucent bands, under its curves; ``sync`` after each render."""

    def __init__(self, plot: Any) -> None:
        self.plot = plot
        self.vb = plot.vb
        self._lines: list[GroupLine] = []
        self._bands: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # plot units
        self._items: dict[str, tuple[pg.FillBetweenItem, pg.PlotCurveItem, pg.PlotCurveItem]] = {}
        self._drawn: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._synced: tuple | None = None
        self._timer = QTimer(plot, singleShot=True, interval=0)
        self._timer.timeout.connect(self._resync)
        self.vb.sigResized.connect(self._timer.start)  # after the panel's own re-render

    def set_lines(self, lines: Sequence[GroupLine], log_y: bool) -> None:
        self._lines = list(lines)
        self._bands = {}
        for line in lines:
            b = line.band
            if b.lower is None or b.upper is None:
                continue
            lower, upper = b.lower, b.upper
            if log_y:  # a bound at or below 0 collapses onto the centre line
                lower = np.where(lower > 0, lower, b.center)
            self._bands[line.id] = (b.x, _to_plot(lower, log_y), _to_plot(upper, log_y))
        for gid in [g for g in self._items if g not in self._bands]:
            fill, _, _ = self._items.pop(gid)
            self.vb.removeItem(fill)
        for gid in self._bands:
            if gid not in self._items:
                c1, c2 = pg.PlotCurveItem(), pg.PlotCurveItem()
                fill = pg.FillBetweenItem(c1, c2, pen=None)
                fill.setZValue(0.5)  # under the curve layers (1 and 2)
                self.vb.addItem(fill, ignoreBounds=True)
                self._items[gid] = (fill, c1, c2)
        self._drawn = {}
        self._synced = None
        self.apply_theme()

    def apply_theme(self) -> None:
        bg = pg.mkColor(pg.getConfigOption("background"))
        alpha = BAND_ALPHA["dark" if bg.lightness() < 128 else "light"]
        for line in self._lines:
            item = self._items.get(line.id)
            if item is not None:
                color = pg.mkColor(line.color)
                color.setAlphaF(alpha)
                item[0].setBrush(pg.mkBrush(color))
        self.plot.legend.set_band_alpha(alpha if self._items else None)

    def drawn(self, group_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(x, lower, upper) of a band as drawn (per pixel column), plot units."""
        return self._drawn.get(group_id)

    def _resync(self) -> None:
        if self._synced is not None:
            self.sync(self._synced[0], force=True)

    def sync(self, x_range: tuple[float, float] | None, force: bool = False) -> None:
        """Reduce the bands to the panel's pixel columns in ``x_range`` and widen the
        y range so that they show (unless the axis ignores outliers)."""
        if x_range is None:
            return
        pixels = self.plot.pixels()
        if force or self._synced != (x_range, pixels):
            self._synced = (x_range, pixels)
            for gid, (x, lower, upper) in self._bands.items():
                xs, ls, us = self._drawn[gid] = envelope(x, lower, upper, x_range, pixels)
                _, c1, c2 = self._items[gid]
                c1.blockSignals(True)
                c1.setData(xs, ls)
                c1.blockSignals(False)
                c2.setData(xs, us)  # one path update for the pair
        self._fit_y()

    def _fit_y(self) -> None:
        state = self.plot.state
        if not self._drawn or state.ignore_outliers:
            return
        parts = [a for _, ls, us in self._drawn.values() for a in (ls, us) if a.size]
        for line in self._lines:
            xy = self.plot.drawn(line.id)
            if xy is not None:
                parts.append(xy[1])
        if not parts:
            return
        ys = np.concatenate(parts)
        if state.log_y:
            ys = 10.0 ** ys
        rng = robust_y_range([ys], False, state.log_y)
        if rng is not None:
            lo, hi = (np.log10(rng[0]), np.log10(rng[1])) if state.log_y else rng
            self.vb.setYRange(float(lo), float(hi), padding=0)
