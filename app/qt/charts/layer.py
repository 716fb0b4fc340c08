"""One graphics item that draws many curves (one per run) in a single paint call.

Why not one PlotCurveItem per run: with 100 runs (200 curves with the raw ones) the
per-item costs (setData bookkeeping, bounds, scene dispatch) dominate. Measured offscreen,
CPU time for 200 curves x 1,500 points: 110-130 ms per update+paint and 50-60 ms per pan
repaint as items, 40-50 ms and 30-40 ms as one layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from app.qt.charts.items import CLICK_TOLERANCE_PX, distance_px

# Fraction of the data span added around the bounding rect so that pens are not clipped.
_BOUNDS_PAD = 0.01


def blend(color: QColor, background: QColor, amount: float) -> QColor:
    """The opaque colour ``amount`` of the way from ``background`` to ``color``."""
    return QColor(*(round(amount * c + (1 - amount) * b)
                    for c, b in zip(color.getRgb()[:3], background.getRgb()[:3])))


class CurveLayer(pg.GraphicsObject):
    """Curves keyed by run id, drawn in ``order`` (later on top), NaN = gap."""

    def __init__(self) -> None:
        super().__init__()
        self._order: list[str] = []
        self._pens: dict[str, QPen] = {}
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._ybounds: dict[str, tuple[float, float]] = {}
        self._paths: dict[str, QPainterPath] = {}
        self._rect = QRectF()
        self._antialias = False

    # ---------------------------------------------------------------- configuration
    def set_order(self, order: Sequence[str]) -> None:
        self._order = list(order)
        keep = set(order)
        for d in (self._pens, self._data, self._ybounds, self._paths):
            for run_id in [r for r in d if r not in keep]:
                del d[run_id]
        self._update_rect()

    def set_pens(self, pens: Mapping[str, QPen], antialias: bool) -> None:
        self._pens = dict(pens)
        self._antialias = antialias
        self.update()

    def pen(self, run_id: str) -> QPen | None:
        return self._pens.get(run_id)

    # ---------------------------------------------------------------- data
    def set_curves(self, curves: Mapping[str, tuple[np.ndarray, np.ndarray] | None]) -> None:
        """Replace the data of the given runs (None or empty arrays: nothing drawn)."""
        for run_id, xy in curves.items():
            self._paths.pop(run_id, None)
            if xy is None or xy[0].size == 0:
                self._data.pop(run_id, None)
                self._ybounds.pop(run_id, None)
                continue
            x, y = xy
            self._data[run_id] = (x, y)
            with np.errstate(invalid="ignore"):
                finite = y[np.isfinite(y)]
            if finite.size:
                self._ybounds[run_id] = (float(finite.min()), float(finite.max()))
            else:
                self._ybounds.pop(run_id, None)
        self._update_rect()

    def clear_curves(self) -> None:
        self.set_curves(dict.fromkeys(list(self._data)))

    def curve(self, run_id: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The drawn (decimated) arrays of a run, or None."""
        return self._data.get(run_id)

    def drawn(self):
        """(run_id, x, y) of every drawn curve, in drawing order."""
        for run_id in self._order:
            xy = self._data.get(run_id)
            if xy is not None:
                yield run_id, xy[0], xy[1]

    def y_bounds(self) -> tuple[float, float] | None:
        if not self._ybounds:
            return None
        lows, highs = zip(*self._ybounds.values())
        return min(lows), max(highs)

    def point_count(self) -> int:
        return sum(int(x.size) for x, _ in self._data.values())

    def _update_rect(self) -> None:
        yb = self.y_bounds()
        if yb is None:
            rect = QRectF()
        else:
            x0 = min(float(x[0]) for x, _ in self._data.values())
            x1 = max(float(x[-1]) for x, _ in self._data.values())
            y0, y1 = yb
            px = (x1 - x0) * _BOUNDS_PAD or 1e-9 * max(abs(x0), 1.0)
            py = (y1 - y0) * _BOUNDS_PAD or 1e-9 * max(abs(y0), 1.0)
            rect = QRectF(x0 - px, y0 - py, (x1 - x0) + 2 * px, (y1 - y0) + 2 * py)
        self.prepareGeometryChange()
        self._rect = rect
        self.update()

    # ---------------------------------------------------------------- pyqtgraph/Qt API
    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect

    def dataBounds(self, ax, frac=1.0, orthoRange=None):  # noqa: N802
        if self._rect.isEmpty():
            return (None, None)
        if ax == 0:
            return (self._rect.left(), self._rect.right())
        return (self._rect.top(), self._rect.bottom())

    def paint(self, p: QPainter, *args) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, self._antialias)
        for run_id in self._order:
            xy = self._data.get(run_id)
            pen = self._pens.get(run_id)
            if xy is None or pen is None:
                continue
            path = self._paths.get(run_id)
            if path is None:
                path = self._paths[run_id] = pg.arrayToQPath(xy[0], xy[1], connect="finite")
            p.setPen(pen)
            p.drawPath(path)


def nearest_run(
    layers: Sequence[tuple[CurveLayer, float]], x: float, y: float, px: float, py: float
) -> str | None:
    """The run whose drawn curve passes closest to (x, y), within CLICK_TOLERANCE_PX;
    ``layers``: (layer, distance penalty in pixels); ``px``/``py``: data units per pixel."""
    if not (px > 0 and py > 0):
        return None
    best, best_d = None, CLICK_TOLERANCE_PX
    for layer, penalty in layers:
        if not layer.isVisible():
            continue
        for run_id, xs, ys in layer.drawn():
            d = distance_px(xs, ys, x, y, px, py) + penalty
            if d < best_d:
                best, best_d = run_id, d
    return best
