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
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from app.qt.charts.items import CLICK_TOLERANCE_PX, distance_px

# Fraction of the data span added around the bounding rect so that pens are not clipped.
_BOUNDS_PAD = 0.01
#: After a pan or zoom, antialiased curves are drawn aliased until the view has been
#: still this long: 10 antialiased runs cost ~48 ms a pan step, aliased ~19 ms.
SETTLE_MS = 150


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
        # What to draw per run, built on first paint: the curve, and dots for lone points.
        self._paths: dict[str, tuple[QPolygonF | QPainterPath, QPolygonF | None]] = {}
        self._rect = QRectF()
        self._antialias = False
        self._moving = False  # a pan/zoom in progress: antialiasing is off for now
        self._settle_timer = QTimer(singleShot=True, interval=SETTLE_MS)
        self._settle_timer.timeout.connect(self._settle)

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
        self._settle_timer.stop()
        self._moving = False
        self.update()

    def _settle(self) -> None:
        self._moving = False
        self.update()

    def antialiased_now(self) -> bool:
        """Whether the next paint antialiases (False for a while after a pan/zoom)."""
        return self._antialias and not self._moving

    def pen(self, run_id: str) -> QPen | None:
        return self._pens.get(run_id)

    # ---------------------------------------------------------------- data
    def set_curves(self, curves: Mapping[str, tuple[np.ndarray, np.ndarray] | None],
                   moving: bool = False) -> None:
        """Replace the data of the given runs (None or empty arrays: nothing drawn).
        ``moving``: the view is being panned/zoomed, so skip antialiasing until it has
        been still for ``SETTLE_MS``."""
        if moving and self._antialias:
            self._moving = True
            self._settle_timer.start()
        for run_id, xy in curves.items():
            self._paths.pop(run_id, None)
            if xy is None or xy[0].size == 0:
                self._data.pop(run_id, None)
                self._ybounds.pop(run_id, None)
                continue
            x, y = xy
            self._data[run_id] = (x, y)
            # fmin/fmax skip NaN (gaps); NaN only when there is nothing else. The
            # decimated y holds no ±inf.
            lo, hi = float(np.fmin.reduce(y)), float(np.fmax.reduce(y))
            if lo == lo and abs(lo) != np.inf and abs(hi) != np.inf:
                self._ybounds[run_id] = (lo, hi)
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
        # Aliased while moving only on screen: an export (QImage, SVG) always gets the
        # antialiasing asked for.
        on_screen = isinstance(p.device(), QWidget)
        p.setRenderHint(QPainter.RenderHint.Antialiasing,
                        self.antialiased_now() or (self._antialias and not on_screen))
        for run_id in self._order:
            xy = self._data.get(run_id)
            pen = self._pens.get(run_id)
            if xy is None or pen is None:
                continue
            shapes = self._paths.get(run_id)
            if shapes is None:
                shapes = self._paths[run_id] = (_shape(*xy), _lone_points(*xy))
            shape, dots = shapes
            p.setPen(pen)
            if isinstance(shape, QPolygonF):
                p.drawPolyline(shape)
            else:
                p.drawPath(shape)
            if dots is not None:
                p.setPen(_dot_pen(pen))
                p.drawPoints(dots)


def _lone_points(x: np.ndarray, y: np.ndarray) -> QPolygonF | None:
    """Points with no drawn neighbour (a metric logged once, a value between gaps): a line
    through them has no length, so they are drawn as dots or they would not show at all."""
    finite = np.isfinite(y)
    if finite.all() and y.shape[0] > 1:
        return None
    alone = finite & ~np.r_[False, finite[:-1]] & ~np.r_[finite[1:], False]
    if not alone.any():
        return None
    poly = pg.functions.create_qpolygonf(int(alone.sum()))
    xy = pg.functions.ndarray_from_qpolygonf(poly)
    xy[:, 0] = x[alone]
    xy[:, 1] = y[alone]
    return poly


def _dot_pen(pen: QPen) -> QPen:
    dot = QPen(pen)
    dot.setWidthF(max(pen.widthF() * 3, 6.0))
    dot.setCapStyle(Qt.PenCapStyle.RoundCap)
    return dot


def _shape(x: np.ndarray, y: np.ndarray) -> QPolygonF | QPainterPath:
    """What to draw for one curve: a polyline, or with gaps (NaN) a path of pieces.
    A QPolygonF filled straight from numpy costs ~5 us for 1,000 points, a
    QPainterPath (``pg.arrayToQPath``) 15-40 us; both draw the same pixels."""
    if np.isnan(y).any():
        return pg.arrayToQPath(x, y, connect="finite")
    poly = pg.functions.create_qpolygonf(x.shape[0])
    xy = pg.functions.ndarray_from_qpolygonf(poly)
    xy[:, 0] = x
    xy[:, 1] = y
    return poly


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
