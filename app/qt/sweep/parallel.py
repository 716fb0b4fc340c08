"""Parallel coordinates: one vertical axis per param plus the colour metric last, one
polyline per run, brushing by dragging along an axis.

Speed over thousands of runs: the polylines are a handful of ``QPainterPath``s (one per
colour bucket, NaN-separated runs via ``pg.arrayToQPath``) held by one item that renders them
into an image once and reuses it while only the overlay (axes, brushes, hover) changes.
Brushed-out runs sit in a second cached layer drawn faint, which a brush drag never redraws.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QPainterPath
from PySide6.QtWidgets import QHBoxLayout, QMenu, QToolButton, QToolTip, QVBoxLayout, QWidget

from app.core.correlation import Axis, brush_filter
from app.qt.sweep import N_BUCKETS, MutedLabel, SweepData, axis_ticks, bucket_colors, qcolor, tokens
from app.qt.sweep.parallel_items import MISSING_Y, Overlay, PathLayer, PCViewBox, norm, pos_at
from app.qt.theme import icon, theme_notifier

MAX_AXES = 12
_MARGINS = (70, 58, 40, 26)  # px around the axes: left, top, right, bottom
_AXIS_HIT_PX = 14
_HOVER_PX = 6
_ANTIALIAS_MAX_RUNS = 1500


@dataclass
class _Brush:
    kind: str  # the axis kind it was made on
    lo: float  # numeric/log: real units (so a brush survives a log<->linear switch)
    hi: float
    labels: frozenset[str] = field(default_factory=frozenset)  # categorical


class ParallelCoords(QWidget):
    """Call :meth:`set_data` with each snapshot; brushes and the chosen axes carry over."""

    sig_brush_changed = Signal()  # ask passing_ids() / passing_mask()
    sig_run_clicked = Signal(str)
    sig_run_hovered = Signal(str)  # "" when the cursor leaves every line

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: SweepData | None = None
        self.axis_keys: list[str] = []  # params, then the metric axis
        self.titles: list[str] = []
        self.metric_axis_key: str | None = None
        self._visible: list[str] = []
        self._user_axes = False
        self._axes: dict[str, Axis] = {}
        self._ticks: dict[str, list[tuple[float, str]]] = {}
        self._brushes: dict[str, _Brush] = {}
        self._Y = np.zeros((0, 0))
        self._mask: np.ndarray | None = None
        self._hover, self._current = -1, None

        self.axes_button = QToolButton(text="Axes", icon=icon("columns"), toolTip="Choose the param axes",
                                       popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.axes_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.axes_menu = QMenu(self)
        self.axes_menu.aboutToShow.connect(self._fill_axes_menu)
        self.axes_button.setMenu(self.axes_menu)
        self.clear_button = QToolButton(text="Clear filters", enabled=False)
        self.clear_button.clicked.connect(lambda: self.clear_brush())
        hint = MutedLabel("Drag along an axis to filter runs · double-click an axis to clear its filter")
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        for w in (self.axes_button, self.clear_button, hint):
            bar.addWidget(w)
        bar.addStretch(1)

        self._vb = PCViewBox(self)
        self.plot = pg.PlotWidget(viewBox=self._vb)
        item = self.plot.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.hideButtons()
        item.setMenuEnabled(False)
        self._back, self._front, self._overlay = PathLayer(), PathLayer(), Overlay(self)
        self._hover_item = pg.PlotCurveItem(antialias=True)
        self._sel_item = pg.PlotCurveItem(antialias=True)
        for z, it in enumerate((self._back, self._front, self._overlay, self._sel_item, self._hover_item)):
            it.setZValue(z)
            self._vb.addItem(it, ignoreBounds=True)
        self._vb.sigResized.connect(self._fit_range)
        # Brushed-out runs are drawn faint from a cached layer; render it when idle after the
        # coloured lines were painted, so the first brush does not pay for it.
        self._front.after_paint = lambda: QTimer.singleShot(0, lambda: self._back.warm(self._front.last_key))
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.viewport().installEventFilter(self)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(bar)
        box.addWidget(self.plot, 1)
        theme_notifier().themeChanged.connect(self._on_theme)  # a bound slot: dropped with self
        self._restyle()

    # ------------------------------------------------------------------------- public
    def set_data(self, data: SweepData, order: list[str] | None = None) -> None:
        """A fresh snapshot. ``order``: params by importance, to pick the default axes."""
        had = bool(self._brushes)
        self.data = data
        keys = set(data.param_keys)
        if self._user_axes:
            self._visible = [k for k in self._visible if k in keys]
        else:  # automatic: keep the axes already shown, fill up with the most important
            varying = [k for k in data.param_keys if data.varies(k)]
            ranked = [k for k in (order or []) if k in varying] + varying
            kept = [k for k in self._visible if k in varying]
            extra = [k for k in dict.fromkeys(ranked) if k not in kept][: max(0, MAX_AXES - len(kept))]
            self._visible = sorted(kept + extra)
        self._relayout()
        if had or self._brushes:
            self.sig_brush_changed.emit()

    def set_visible_params(self, keys: list[str]) -> None:
        self._user_axes = True
        self._visible = [k for k in dict.fromkeys(keys) if self.data is None or k in self.data.param_keys]
        had = bool(self._brushes)
        self._relayout()
        if had:
            self.sig_brush_changed.emit()

    def visible_params(self) -> list[str]:
        return list(self._visible)

    def axis(self, key: str) -> Axis:
        return self._axes[key]

    def ticks(self, key: str) -> list[tuple[float, str]]:
        """The (position, label) ticks drawn on an axis (log axes in real units)."""
        return self._ticks[key]

    def polyline_points(self, run_id: str) -> np.ndarray:
        """(n_axes, 2): x = axis index, y = 0..1 up the axis, ``MISSING_Y`` when missing."""
        i = self.data.index[run_id]  # type: ignore[union-attr]
        return np.column_stack([np.arange(len(self.axis_keys), dtype=float), self._Y[i]])

    def set_brush(self, key: str, lo: float, hi: float) -> None:
        """Filter to runs with lo <= position <= hi on axis ``key``; positions as in
        :class:`Axis` (log10 on log axes, category index on categorical ones)."""
        ax = self._axes[key]
        lo, hi = min(lo, hi), max(lo, hi)
        if ax.kind == "categorical":
            labels = frozenset(lab for i, lab in enumerate(ax.labels or ()) if lo <= i <= hi)
            self._brushes[key] = _Brush("categorical", lo, hi, labels)
        elif ax.kind == "log":
            self._brushes[key] = _Brush("log", 10.0**lo, 10.0**hi)
        else:
            self._brushes[key] = _Brush("numeric", lo, hi)
        self._brush_changed()

    def clear_brush(self, key: str | None = None) -> None:
        if key is None:
            self._brushes.clear()
        else:
            self._brushes.pop(key, None)
        self._brush_changed()

    def brushes(self) -> dict[str, tuple[float, float]]:
        """Active brushes in current axis positions; brushes whose axis went away are dropped."""
        out = {}
        for key, b in self._brushes.items():
            ax = self._axes.get(key)
            if ax is None:
                continue
            if b.kind == "categorical" or ax.kind == "categorical":
                idx = [i for i, lab in enumerate(ax.labels or ()) if lab in b.labels] if b.kind == ax.kind else []
                if idx:
                    out[key] = (float(min(idx)), float(max(idx)))
            elif ax.kind == "log":
                if b.lo > 0:
                    out[key] = (math.log10(b.lo), math.log10(b.hi))
            else:
                out[key] = (b.lo, b.hi)
        return out

    def passing_mask(self) -> np.ndarray | None:
        return self._mask

    def passing_ids(self) -> set[str] | None:
        if self._mask is None or self.data is None:
            return None
        return {self.data.ids[i] for i in np.flatnonzero(self._mask)}

    def set_current_run(self, run_id: str | None) -> None:
        self._current = run_id
        self._show_run(self._sel_item, self.data.index.get(run_id, -1) if self.data and run_id else -1, "accent")

    # ------------------------------------------------------------------ interaction
    def axis_at(self, scene_pos) -> str | None:
        if not self.axis_keys:
            return None
        p = self._vb.mapSceneToView(scene_pos)
        j = int(round(p.x()))
        px = self._vb.viewPixelSize()[0]
        if 0 <= j < len(self.axis_keys) and abs(p.x() - j) / px <= _AXIS_HIT_PX and MISSING_Y - 0.05 <= p.y() <= 1.05:
            return self.axis_keys[j]
        return None

    def brush_span(self, key: str) -> tuple[float, float]:
        """The brush of ``key`` as 0..1 heights up the axis (whole categories)."""
        lo, hi = self.brushes()[key]
        ax = self._axes[key]
        if ax.kind == "categorical":
            lo, hi = lo - 0.5, hi + 0.5
        return (max(0.0, float(norm(ax, lo))), min(1.0, float(norm(ax, hi))))

    def drag_brush(self, key: str, y0: float, y1: float, start: bool) -> None:
        if start:
            span = self.brush_span(key) if key in self.brushes() else None
            self._drag_origin = span if span and span[0] <= y0 <= span[1] else None
        if self._drag_origin is not None:  # drag inside a brush moves it
            a, b = self._drag_origin
            dy = min(max(y1 - y0, -a), 1.0 - b)
            lo, hi = a + dy, b + dy
        else:
            lo, hi = sorted((min(max(y0, 0.0), 1.0), min(max(y1, 0.0), 1.0)))
            if hi - lo < 0.005:
                return
        ax = self._axes[key]
        self.set_brush(key, pos_at(ax, lo), pos_at(ax, hi))

    def run_at(self, scene_pos) -> int:
        """The run whose polyline passes nearest the cursor (vertically, in pixels), or -1."""
        Y, vb = self._Y, self._vb
        if Y.size == 0 or not vb.sceneBoundingRect().contains(scene_pos):
            return -1
        p = vb.mapSceneToView(scene_pos)
        m = Y.shape[1]
        if m == 1:
            yy = Y[:, 0]
        else:
            j = int(min(max(math.floor(p.x()), 0), m - 2))
            f = min(max(p.x() - j, 0.0), 1.0)
            yy = Y[:, j] * (1 - f) + Y[:, j + 1] * f
        d = np.abs(yy - p.y()) / vb.viewPixelSize()[1]
        if self._mask is not None:
            d = np.where(self._mask, d, np.inf)
        i = int(np.argmin(d))
        return i if d[i] <= _HOVER_PX else -1

    def eventFilter(self, obj, ev) -> bool:  # noqa: N802
        if ev.type() == QEvent.Type.Leave and self._hover >= 0:  # the cursor left the plot
            self._set_hover(-1)
        return False

    def _on_mouse_moved(self, scene_pos) -> None:
        self._set_hover(self.run_at(scene_pos))

    def _set_hover(self, i: int) -> None:
        if i == self._hover:
            return
        self._hover = i
        self._show_run(self._hover_item, i, "text")
        if i < 0:
            QToolTip.hideText()
            self.sig_run_hovered.emit("")
            return
        d = self.data
        rows = "".join(f"<tr><td>{html.escape(t)}</td><td>&nbsp;{html.escape(d.raw_text(i, s))}</td></tr>"
                       for t, s in zip(self.titles, self._specs))
        QToolTip.showText(QCursor.pos(), f"<b>{html.escape(d.runs[i].name or d.ids[i])}</b><table>{rows}</table>", self.plot)
        self.sig_run_hovered.emit(d.ids[i])

    def _show_run(self, item: pg.PlotCurveItem, i: int, token: str) -> None:
        if i < 0 or i >= self._Y.shape[0]:
            item.setData([], [])
            return
        tok = tokens()
        item.setData(np.arange(self._Y.shape[1], dtype=float), self._Y[i],
                     pen=pg.mkPen(tok[token], width=2.5), shadowPen=pg.mkPen(tok["plot_background"], width=5))

    def _fill_axes_menu(self) -> None:
        self.axes_menu.clear()
        if self.data is None:
            return
        for k in self.data.param_keys:
            act = self.axes_menu.addAction(k if self.data.varies(k) else f"{k}  (constant)")
            act.setCheckable(True)
            act.setChecked(k in self._visible)
            act.toggled.connect(lambda on, k=k: self.set_visible_params(
                [*self._visible, k] if on else [v for v in self._visible if v != k]))
        self.axes_menu.addSeparator()
        auto = self.axes_menu.addAction("Automatic (params that vary)")
        auto.triggered.connect(self._auto_axes)

    def _auto_axes(self) -> None:
        self._user_axes, self._visible = False, []
        if self.data is not None:
            self.set_data(self.data)

    # -------------------------------------------------------------------- drawing
    def _relayout(self) -> None:
        d = self.data
        if d is None:
            return
        self._specs = [("param", k) for k in self._visible] + ([d.color.spec] if d.color else [])
        self.metric_axis_key = f"metric:{d.color.spec[1]}:{d.color.spec[2]}" if d.color else None
        self.axis_keys = list(self._visible) + ([self.metric_axis_key] if d.color else [])
        if d.color:
            _m, key, stat = d.color.spec
            self.titles = [*self._visible, key if stat == "last" else f"{key} · {stat}"]
        else:
            self.titles = list(self._visible)
        self._axes = {k: d.axis(s) for k, s in zip(self.axis_keys, self._specs)}
        self._ticks = {k: axis_ticks(a) for k, a in self._axes.items()}
        n, m = len(d), len(self.axis_keys)
        self._Y = np.empty((n, m))
        for j, key in enumerate(self.axis_keys):
            self._Y[:, j] = np.nan_to_num(norm(self._axes[key], self._axes[key].positions), nan=MISSING_Y)
        self._X = np.tile(np.r_[np.arange(m, dtype=float), np.nan], (n, 1))
        self._YN = np.column_stack([self._Y, np.full(n, np.nan)])
        self._brushes = {k: b for k, b in self._brushes.items() if k in self.brushes()}
        tok = tokens()
        faint = pg.mkPen(qcolor(tok["text_muted"], max(10, min(40, int(1200 / math.sqrt(max(n, 1)))))), width=1)
        self._rect = QRectF(-0.1, MISSING_Y - 0.05, max(m - 1, 0) + 0.2, 1.1 - MISSING_Y)
        self._back.antialias = self._front.antialias = n <= _ANTIALIAS_MAX_RUNS
        self._back.set_paths([(self._path(np.ones(n, bool)), faint)] if n and m else [], self._rect)
        self._restyle()
        self._hover = -1
        self._show_run(self._hover_item, -1, "text")
        self.set_current_run(self._current)
        self._fit_range()
        self._update_lines()

    def _path(self, sel: np.ndarray) -> QPainterPath:
        return pg.arrayToQPath(self._X[sel].ravel(), self._YN[sel].ravel(), connect="finite")

    def _brush_changed(self) -> None:
        self.clear_button.setEnabled(bool(self._brushes))
        self._update_lines()
        self._overlay.update()
        self.sig_brush_changed.emit()

    def _update_lines(self) -> None:
        d = self.data
        if d is None:
            return
        n = len(d)
        br = self.brushes()
        self._mask = brush_filter({k: self._axes[k] for k in br}, br) if br and n else None
        show = self._mask if self._mask is not None else np.ones(n, bool)
        bucket = d.color.bucket if d.color is not None else np.full(n, -1)
        alpha = int(min(230, 70 + 2400 / math.sqrt(max(n, 1))))
        colors, tok = bucket_colors(), tokens()
        layers = []
        for b in range(-1, N_BUCKETS):  # missing metric first, then worst .. best on top
            sel = show & (bucket == b)
            if sel.any() and self.axis_keys:
                c = qcolor(tok["text_muted"], alpha) if b < 0 else QColor(colors[b])
                c.setAlpha(alpha)
                layers.append((self._path(sel), pg.mkPen(c, width=1.2 if n <= _ANTIALIAS_MAX_RUNS else 1)))
        self._front.set_paths(layers, self._rect)
        self._back.set_shown(self._mask is not None)

    def _restyle(self) -> None:
        self.plot.setBackground(tokens()["plot_background"])

    def _on_theme(self, _name: str) -> None:
        self._restyle()
        self._relayout()

    def _fit_range(self) -> None:
        """Fixed pixel margins around the axes, whatever the widget size."""
        w, h = self._vb.width(), self._vb.height()
        left, top, right, bottom = _MARGINS
        span = max(len(self.axis_keys) - 1, 1)
        sx = max(w - left - right, 20) / span
        sy = max(h - top - bottom, 20) / (1 - MISSING_Y)
        x0, x1 = -left / sx, span + right / sx
        if len(self.axis_keys) <= 1:
            x0, x1 = -0.5 * span, 0.5 * span
        y0, y1 = MISSING_Y - bottom / sy, 1 + top / sy
        self._vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._overlay.set_rect(QRectF(x0, y0, x1 - x0, y1 - y0))
