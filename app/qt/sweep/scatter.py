"""Scatter of any param or metric against any other, one point per run, coloured by the
chosen metric. One ``ScatterPlotItem`` with per-point brushes; runs missing x or y are left
out and counted, never drawn at zero; categorical axes get their labels (and a little
stable jitter so repeated settings do not stack into one dot)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from app.core.compare import format_value
from app.core.correlation import Axis
from app.qt.sweep import STATS, ColorBar, MutedLabel, Spec, SweepData, bucket_colors, jitter, qcolor, spec_label, tokens
from app.qt.theme import theme_notifier


_KEEP = object()


class _SweepAxis(pg.AxisItem):
    """pyqtgraph's axis, told whether it shows categories (fixed labelled ticks), log10
    positions (labelled in real units) or plain numbers."""

    def set_axis(self, axis: Axis | None) -> None:
        self.enableAutoSIPrefix(False)  # "(x0.001)" on a loss axis reads worse than 0.3
        kind = axis.kind if axis is not None else "numeric"
        if kind == "categorical":
            self.setTicks([[(float(i), lab) for i, lab in enumerate(axis.labels or ())]])
        else:
            self.setTicks(None)
        self.logMode = kind == "log"  # not setLogMode(): that would also transform the data
        self.picture = None
        self.update()

    def logTickStrings(self, values, scale, spacing) -> list[str]:  # noqa: N802
        return [format_value(10.0 ** float(v)) for v in values]  # as the parallel axes label them


class ScatterView(QWidget):
    sig_run_clicked = Signal(str)
    sig_run_hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data: SweepData | None = None
        self.missing_count = 0
        self._x: Spec | None = None
        self._y: Spec | None = None
        self._y_user = False
        self._order: Callable[[], list[str]] | None = None
        self._specs: list[Spec] = []
        self._highlight: set[str] | None = None
        self._current: str | None = None
        self._dirty = False
        self._hovered = ""
        self._shown = np.zeros(0, dtype=np.int64)
        self._px = self._py = np.zeros(0)

        self.x_combo, self.y_combo = QComboBox(), QComboBox()
        for c in (self.x_combo, self.y_combo):
            c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            c.setMinimumContentsLength(14)
            c.setMaxVisibleItems(24)
        self.x_combo.activated.connect(lambda i: self.set_x(self._specs[i]))
        self.y_combo.activated.connect(lambda i: self.set_y(self._specs[i]))
        swap = QToolButton(text="⇄", toolTip="Swap x and y")
        swap.clicked.connect(self._swap)
        self.missing_label = MutedLabel()
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 0)
        for w in (QLabel("x"), self.x_combo, swap, QLabel("y"), self.y_combo, self.missing_label):
            bar.addWidget(w)
        bar.addStretch(1)

        self.x_axis, self.y_axis = _SweepAxis("bottom"), _SweepAxis("left")
        self.plot = pg.PlotWidget(axisItems={"bottom": self.x_axis, "left": self.y_axis})
        self.plot.getPlotItem().setMenuEnabled(False)
        self.points_item = pg.ScatterPlotItem(hoverable=True, tip=self._tip)
        self.points_item.sigClicked.connect(self._on_clicked)
        self.points_item.sigHovered.connect(self._on_hovered)
        self._sel_item = pg.ScatterPlotItem(size=15, brush=None)
        self._sel_item.setZValue(5)
        self.plot.addItem(self.points_item)
        self.plot.addItem(self._sel_item)
        self.colorbar = ColorBar()
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 4, 4)
        body.addWidget(self.plot, 1)
        body.addWidget(self.colorbar)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(bar)
        box.addLayout(body, 1)
        theme_notifier().themeChanged.connect(self._on_theme)  # a bound slot: dropped with self
        self._restyle()

    # ------------------------------------------------------------------------- public
    def set_data(self, data: SweepData, order: Callable[[], list[str]] | None = None, highlight=_KEEP) -> None:
        """A fresh snapshot; drawn now if visible, else when shown. ``order`` gives the params
        by importance (asked only when needed): the first is the default x.
        ``highlight``: as :meth:`set_highlight`."""
        self.data = data
        if highlight is not _KEEP:
            self._highlight = None if highlight is None else set(highlight)
        specs: list[Spec] = [("param", k) for k in data.param_keys]
        specs += [("metric", k, s) for k in data.metric_keys for s in STATS]
        if specs != self._specs:
            self._specs = specs
            for combo in (self.x_combo, self.y_combo):
                combo.blockSignals(True)
                combo.clear()
                combo.addItems([spec_label(s) for s in specs])
                combo.blockSignals(False)
        self._order = order
        if self._x not in specs:
            self._x = None  # chosen when drawn: the importance order may be costly
        if not self._y_user or self._y not in specs:
            self._y_user = False
            self._y = data.color.spec if data.color else next((s for s in specs if s[0] == "metric"), None)
        self._sync_combos()
        self._schedule()

    def x_spec(self) -> Spec | None:
        if self._x is None and self.data is not None and self._specs:
            keys = self._order() if self._order is not None else []
            first = next((k for k in keys if k in self.data.param_keys), None)
            self._x = ("param", first) if first else self._specs[0]
            self._sync_combos()
        return self._x

    def y_spec(self) -> Spec | None:
        return self._y

    def set_x(self, spec: Spec) -> None:
        self._x = tuple(spec)
        self._sync_combos()
        self.refresh(autorange=True)

    def set_y(self, spec: Spec) -> None:
        self._y, self._y_user = tuple(spec), True
        self._sync_combos()
        self.refresh(autorange=True)

    def set_highlight(self, ids: set[str] | None) -> None:
        """Runs outside ``ids`` are drawn faint (None: every run at full colour)."""
        new = None if ids is None else set(ids)
        if new != self._highlight:
            self._highlight = new
            self._schedule()

    def set_current_run(self, run_id: str | None) -> None:
        self._current = run_id
        self._show_current()

    def shown(self) -> dict[str, np.ndarray | list[str]]:
        """What is drawn: run ids with their x/y (axis positions, before jitter)."""
        ids = [self.data.ids[i] for i in self._shown] if self.data else []
        return {"ids": ids, "x": self._px[self._shown], "y": self._py[self._shown]}

    # -------------------------------------------------------------------- drawing
    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        if self._dirty:
            self.refresh()

    def _schedule(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._dirty = True

    def refresh(self, autorange: bool = False) -> None:
        self._dirty = False
        self._restyle()
        d = self.data
        if d is None or self.x_spec() is None or self._y is None:
            self.points_item.clear()
            return
        ax, ay = d.axis(self._x), d.axis(self._y)
        self._px, self._py = ax.positions, ay.positions
        ok = ~(ax.missing | ay.missing)
        self.missing_count = int(len(d) - ok.sum())
        self.missing_label.setText(f"{self.missing_count} runs missing x or y" if self.missing_count else "")
        tok = tokens()
        bucket = d.color.bucket if d.color is not None else np.full(len(d), -1)
        faint = np.zeros(len(d), dtype=bool)
        if self._highlight is not None:
            faint = np.array([rid not in self._highlight for rid in d.ids], dtype=bool)
        # Faint first, then the missing-colour runs, then worst .. best, so good runs sit on top.
        rank = np.where(faint, -2, bucket)
        idx = np.flatnonzero(ok)
        idx = idx[np.argsort(rank[idx], kind="stable")]
        self._shown = idx
        brushes = [QBrush(c) for c in bucket_colors()]
        missing_brush = QBrush(qcolor(tok["text_muted"], 200))
        faint_brush = QBrush(qcolor(tok["text_muted"], 45))
        point_brushes = [faint_brush if faint[i] else (brushes[bucket[i]] if bucket[i] >= 0 else missing_brush) for i in idx]
        x, y = self._px[idx].copy(), self._py[idx].copy()
        ids = [d.ids[i] for i in idx]
        if ax.kind == "categorical":
            x += jitter(ids)
        if ay.kind == "categorical":
            y += jitter([i[::-1] for i in ids])
        n = len(idx)
        self.points_item.setData(x=x, y=y, data=idx, brush=point_brushes, size=8 if n <= 1500 else 6,
                                 pen=pg.mkPen(tok["plot_background"], width=0.6) if n <= 1500 else None)
        self.x_axis.set_axis(ax)
        self.y_axis.set_axis(ay)
        self.plot.setLabel("bottom", spec_label(self._x))
        self.plot.setLabel("left", spec_label(self._y))
        self.colorbar.set_scale(d.color)
        if autorange:
            self.plot.enableAutoRange()
        self._show_current()

    def _show_current(self) -> None:
        d = self.data
        i = d.index.get(self._current, -1) if d and self._current else -1
        j = np.flatnonzero(self._shown == i) if i >= 0 else ()
        if not len(j):
            self._sel_item.clear()
            return
        x, y = self.points_item.data["x"][j[0]], self.points_item.data["y"][j[0]]
        self._sel_item.setData([x], [y], pen=pg.mkPen(tokens()["accent"], width=2), brush=None)

    def _on_theme(self, _name: str) -> None:
        self._schedule()

    def _restyle(self) -> None:
        tok = tokens()
        self.plot.setBackground(tok["plot_background"])
        for a in (self.x_axis, self.y_axis):
            a.setPen(tok["plot_foreground"])
            a.setTextPen(tok["plot_foreground"])
        self.plot.showGrid(x=True, y=True, alpha=0.15)

    # ------------------------------------------------------------------ interaction
    def _sync_combos(self) -> None:
        for combo, spec in ((self.x_combo, self._x), (self.y_combo, self._y)):
            i = self._specs.index(spec) if spec in self._specs else -1
            if i >= 0 and i != combo.currentIndex():
                combo.blockSignals(True)
                combo.setCurrentIndex(i)
                combo.blockSignals(False)

    def _swap(self) -> None:
        if self._x is not None and self._y is not None:
            self._x, self._y, self._y_user = self._y, self._x, True
            self._sync_combos()
            self.refresh(autorange=True)

    def _tip(self, x: float, y: float, data: int) -> str:
        d = self.data
        if d is None:
            return ""
        lines = [d.runs[data].name or d.ids[data]]
        for spec in (self._x, self._y, d.color.spec if d.color else None):
            if spec is not None and spec not in lines:
                lines.append(f"{spec_label(spec)}: {d.raw_text(int(data), spec)}")
        return "\n".join(dict.fromkeys(lines))

    def _on_clicked(self, _item, points, _ev) -> None:
        if len(points) and self.data is not None:
            self.sig_run_clicked.emit(self.data.ids[int(points[0].data())])

    def _on_hovered(self, _item, points, _ev) -> None:
        rid = self.data.ids[int(points[0].data())] if len(points) and self.data is not None else ""
        if rid != self._hovered:
            self._hovered = rid
            self.sig_run_hovered.emit(rid)
