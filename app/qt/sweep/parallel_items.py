"""Graphics items of the parallel coordinates view: the cached polyline layer, the axes
overlay (drawn in pixels, so labels stay crisp and readable at any size) and the view box that
turns drags along an axis into brushes."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QLinearGradient, QPainter, QPainterPath, QPen

from app.core.correlation import Axis
from app.qt.sweep import MISSING_LABEL, N_BUCKETS, bucket_colors, qcolor, tokens

if TYPE_CHECKING:
    from app.qt.sweep.parallel import ParallelCoords

#: Where a missing value is drawn, in axis heights below the axis (0 = axis bottom).
MISSING_Y = -0.1


def norm(axis: Axis, pos):
    """Axis positions -> 0..1 up the axis (NaN stays NaN)."""
    if axis.kind == "categorical":
        return (np.asarray(pos) + 0.5) / max(len(axis.labels or ()), 1)
    lo, hi = axis.range
    return (np.asarray(pos) - lo) / (hi - lo) if hi > lo else np.asarray(pos) - lo + 0.5


def pos_at(axis: Axis, y: float) -> float:
    if axis.kind == "categorical":
        return y * max(len(axis.labels or ()), 1) - 0.5
    lo, hi = axis.range
    return lo + y * (hi - lo) if hi > lo else lo + y - 0.5


class PathLayer(pg.GraphicsObject):
    """Paths drawn once into an image, reused until the paths or the view transform change."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[tuple[QPainterPath, QPen]] = []
        self.antialias = False
        self._rect = QRectF(0, 0, 1, 1)
        self._img: QImage | None = None
        self._key: tuple | None = None
        self.last_key: tuple | None = None
        self.shown = True
        self.after_paint = None  # called after each paint (to schedule idle work)

    def set_paths(self, paths: list[tuple[QPainterPath, QPen]], rect: QRectF) -> None:
        self.prepareGeometryChange()
        self.paths, self._rect, self._img = paths, rect, None
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect

    def paint(self, p: QPainter, *_args) -> None:
        tr = p.transform()
        dev = tr.mapRect(self._rect).toAlignedRect().intersected(p.viewport())
        self.last_key = key = (tr, dev, p.device().devicePixelRatioF())
        if not self.paths or dev.isEmpty() or not self.shown:
            return
        self.warm(key)
        p.save()
        p.resetTransform()
        p.drawImage(dev.topLeft(), self._img)
        p.restore()
        if self.after_paint is not None:
            self.after_paint()

    def set_shown(self, shown: bool) -> None:
        """Hidden but still an item: ``warm`` can render it ahead of time."""
        if shown != self.shown:
            self.shown = shown
            self.update()

    def warm(self, key: tuple | None) -> None:
        """Render the cache for view transform ``key`` (as from ``last_key``) unless current."""
        if key is None or not self.paths or (self._img is not None and self._key == key):
            return
        tr, dev, dpr = key
        img = QImage(round(dev.width() * dpr), round(dev.height() * dpr), QImage.Format.Format_ARGB32_Premultiplied)
        img.setDevicePixelRatio(dpr)
        img.fill(Qt.GlobalColor.transparent)
        q = QPainter(img)
        q.setRenderHint(QPainter.RenderHint.Antialiasing, self.antialias)
        # A clip takes Qt's span-based line path; without one, translucent cosmetic lines
        # are blended pixel by pixel, ~8x slower at thousands of runs.
        q.setClipRect(0, 0, dev.width(), dev.height())
        q.translate(-dev.x(), -dev.y())
        q.setTransform(tr, True)
        for path, pen in self.paths:
            q.setPen(pen)
            q.drawPath(path)
        q.end()
        self._img, self._key = img, key


class Overlay(pg.GraphicsObject):
    """Axes, ticks, titles, missing slots, the colour strip and brushes, in pixel units."""

    def __init__(self, owner: ParallelCoords) -> None:
        super().__init__()
        self._o = owner
        self._rect = QRectF(0, 0, 1, 1)

    def set_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = rect
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect

    def paint(self, p: QPainter, *_args) -> None:
        o, tok = self._o, tokens()
        if not o.axis_keys:
            return
        tr = p.transform()
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetrics(p.font())
        fg, muted = qcolor(tok["plot_foreground"]), qcolor(tok["text_muted"])
        halo = qcolor(tok["plot_background"], 200)
        xs = [tr.map(QPointF(j, 0)).x() for j in range(len(o.axis_keys))]
        gap = (xs[1] - xs[0]) if len(xs) > 1 else 200.0
        stagger = any(fm.horizontalAdvance(t) > gap - 8 for t in o.titles)
        for j, key in enumerate(o.axis_keys):
            ax, x = o.axis(key), xs[j]
            ybot, ytop = tr.map(QPointF(j, 0)).y(), tr.map(QPointF(j, 1)).y()
            if j == len(o.axis_keys) - 1 and o.metric_axis_key == key:
                self._strip(p, tr, j, ax, x, ybot, ytop)
            if key in o.brushes():  # under the axis and its labels
                y0, y1 = o.brush_span(key)
                r = QRectF(QPointF(x - 6, tr.map(QPointF(j, y1)).y()), QPointF(x + 6, tr.map(QPointF(j, y0)).y()))
                p.setPen(QPen(qcolor(tok["accent"]), 1.5))
                p.setBrush(qcolor(tok["accent"], 40))
                p.drawRoundedRect(r, 3, 3)
                p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(fg, 1.2))
            p.drawLine(QPointF(x, ybot), QPointF(x, ytop))
            last = math.inf
            for pos, label in o.ticks(key):
                yy = tr.map(QPointF(j, float(norm(ax, pos)))).y()
                p.setPen(QPen(fg, 1))
                p.drawLine(QPointF(x - 4, yy), QPointF(x, yy))
                if abs(last - yy) < fm.height():  # crowded: thin the labels out
                    continue
                last = yy
                text = fm.elidedText(label, Qt.TextElideMode.ElideRight, max(30, int(gap) - 16))
                self._label(p, fm, text, x, yy, fg, halo)
            if ax.missing.any():
                yy = tr.map(QPointF(j, MISSING_Y)).y()
                p.setPen(QPen(muted, 1, Qt.PenStyle.DotLine))
                p.drawLine(QPointF(x, ybot), QPointF(x, yy))
                self._label(p, fm, MISSING_LABEL, x, yy, muted, halo)
                p.setPen(muted)
                p.drawEllipse(QPointF(x, yy), 2.0, 2.0)
            row = j % 2 if stagger else 0
            width = int(2 * gap - 10 if stagger else gap - 6) if len(xs) > 1 else 300
            title = fm.elidedText(o.titles[j], Qt.TextElideMode.ElideMiddle, max(width, 40))
            p.setPen(qcolor(tok["text"]))
            yt = ytop - 10 - (1 - row if stagger else 0) * (fm.height() + 2)
            p.drawText(QRectF(x - 150, yt - fm.height(), 300, fm.height()), Qt.AlignmentFlag.AlignHCenter, title)
        p.restore()

    @staticmethod
    def _label(p: QPainter, fm: QFontMetrics, text: str, x: float, y: float, color: QColor, halo: QColor) -> None:
        """A tick label left of the axis, on a halo so the lines under it do not hide it."""
        w = fm.horizontalAdvance(text)
        r = QRectF(x - 7 - w, y - fm.height() / 2, w, fm.height())
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(halo)
        p.drawRoundedRect(r.adjusted(-2, 0, 2, 0), 3, 3)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(color)
        p.drawText(r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)

    def _strip(self, p: QPainter, tr, j: int, ax: Axis, x: float, ybot: float, ytop: float) -> None:
        """The colour legend: a gradient along the metric axis, best values in the best colour."""
        scale = self._o.data.color if self._o.data else None
        if scale is None:
            return
        colors = bucket_colors()
        y_lo = tr.map(QPointF(j, float(norm(ax, scale.lo)))).y()
        y_hi = tr.map(QPointF(j, float(norm(ax, scale.hi)))).y()
        grad = QLinearGradient(QPointF(0, y_lo), QPointF(0, y_hi if y_hi != y_lo else y_lo - 1))
        for i in range(8):
            f = i / 7
            grad.setColorAt(f, colors[min(int(scale.t_at(scale.lo + f * (scale.hi - scale.lo)) * N_BUCKETS), N_BUCKETS - 1)])
        p.fillRect(QRectF(x + 2, ytop, 7, ybot - ytop), grad)


class PCViewBox(pg.ViewBox):
    def __init__(self, owner: ParallelCoords) -> None:
        super().__init__(enableMenu=False)
        self._o = owner
        self.setMouseEnabled(False, False)
        self.disableAutoRange()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._key = self._o.axis_at(ev.buttonDownScenePos())
        if getattr(self, "_key", None) is None:
            ev.ignore()
            return
        ev.accept()
        y0 = self.mapSceneToView(ev.buttonDownScenePos()).y()
        y1 = self.mapSceneToView(ev.scenePos()).y()
        self._o.drag_brush(self._key, y0, y1, ev.isStart())

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        key = self._o.axis_at(ev.scenePos())
        if ev.double() and key is not None:
            self._o.clear_brush(key)
            return
        i = self._o.run_at(ev.scenePos())
        if i >= 0 and self._o.data is not None:
            self._o.sig_run_clicked.emit(self._o.data.ids[i])
