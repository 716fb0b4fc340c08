"""One chart panel: a metric key, every overlaid run as a smoothed curve over a faint raw one."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal

from app.core.axes import robust_y_range
from app.qt.charts.items import ValueAxisItem, bottom_axis
from app.qt.charts.layer import CurveLayer, blend, nearest_run
from app.qt.charts.legend import PanelLegend
from app.qt.charts.readout import Placeholder, Readout
from app.qt.charts.series import Display, decimate_many

#: How much of the run colour the raw curve keeps (the rest is the background). An opaque
#: pre-blended colour instead of alpha: a noisy raw curve overlaps itself many times per
#: pixel column, and alpha would add up to nearly full colour (also slower to draw).
RAW_MIX = 0.3
#: Up to this many runs, curves are drawn thicker and antialiased (cheap when few).
FEW_RUNS = 10
#: Values pooled per panel for the ignore-outliers percentiles (a strided sample: 100k
#: estimate a 5th/95th percentile to well under a pixel, in ~5 ms instead of ~18 for 400k).
OUTLIER_SAMPLE = 100_000
#: Idle time after the last redraw before the curve layers are cached as pixmaps.
CACHE_AFTER_IDLE_MS = 300


class RunEntry(NamedTuple):
    run_id: str
    name: str
    color: str
    start_ms: int


@dataclass(frozen=True)
class ViewState:
    """The settings a panel needs to draw (a subset of ChartSettings)."""

    x_axis: str = "step"
    smoothing: float = 0.6
    log_y: bool = False
    ignore_outliers: bool = False
    show_raw: bool = True
    show_legend: bool = True


# Per run: (smoothed display or None when smoothing is 0, raw display).
Displays = dict[str, tuple[Display | None, Display]]


def _shown(pair: tuple[Display | None, Display]) -> Display:
    """The display drawn as the run's main curve: smoothed if smoothing is on, else raw."""
    return pair[0] if pair[0] is not None else pair[1]


class MetricPlot(pg.PlotWidget):
    """The panel of one metric key. The ChartsView owns the data and the shared x range;
    the panel decimates, draws, sets its own y range and reports mouse/x-range events."""

    sig_x_range = Signal(object, object)  # (panel, (lo, hi)): a change the view did not make
    sig_mouse_x = Signal(object)  # x under the mouse (plot units), None when it leaves
    sig_double_clicked = Signal()
    sig_run_clicked = Signal(str)

    def __init__(self, key: str, parent=None) -> None:
        super().__init__(parent=parent, axisItems={"bottom": bottom_axis("step"),
                                                   "left": ValueAxisItem("left")})
        self.key = key
        self.state = ViewState()
        self._runs: list[RunEntry] = []
        self._samples: dict[str, pg.PlotCurveItem] = {}  # legend samples (not drawn)
        self._displays: Displays = {}
        self._pending = False
        self._rendered: tuple | None = None  # (x_range, pixels) last drawn
        self._x_range: tuple[float, float] | None = None
        self._silent = False
        self._mouse_inside = False
        self._legend_stale = True

        pi = self.getPlotItem()
        self.vb = pi.getViewBox()
        pi.hideButtons()
        pi.setMenuEnabled(False)
        self.vb.setMenuEnabled(False)
        self.vb.disableAutoRange()
        self.vb.setMouseEnabled(x=True, y=False)  # y follows the data (or the inlier band)
        pi.layout.setContentsMargins(2, 2, 6, 2)

        # Two layers: every faint raw curve under every smoothed one.
        self.raw_layer, self.main_layer = CurveLayer(), CurveLayer()
        for z, layer in enumerate((self.raw_layer, self.main_layer), start=1):
            layer.setZValue(z)
            self.vb.addItem(layer)
        # Once the panel is idle the layers are cached as pixmaps, so the crosshair moving
        # over 200 curves repaints a blit (100 runs: 14 ms instead of 62 ms CPU). While
        # it changes (pan, zoom, live data) the cache is off: filling it doubles the cost.
        self._cache_timer = QTimer(self, singleShot=True, interval=CACHE_AFTER_IDLE_MS)
        self._cache_timer.timeout.connect(lambda: self._set_cached(True))

        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.vline.setZValue(1000)
        self.vline.hide()
        self.vb.addItem(self.vline, ignoreBounds=True)

        self.legend = PanelLegend(self.vb)

        self.readout = Readout(self)
        self._placeholder = Placeholder(self)

        self._resize_timer = QTimer(self, singleShot=True, interval=0)
        self._resize_timer.timeout.connect(self._rerender_after_resize)
        self.vb.sigXRangeChanged.connect(self._on_x_range)
        self.vb.sigResized.connect(self._resize_timer.start)
        self._mouse_proxy = pg.SignalProxy(
            self.scene().sigMouseMoved, rateLimit=60, slot=self._on_mouse_moved
        )
        self.scene().sigMouseClicked.connect(self._on_clicked)
        self.apply_theme()

    # ---------------------------------------------------------------- configuration
    def set_runs(self, runs: list[RunEntry]) -> None:
        """One curve (and one raw curve) per run, coloured, in legend order."""
        order = [r.run_id for r in runs]
        self._runs = list(runs)
        self._displays = {r: d for r, d in self._displays.items() if r in set(order)}
        self._samples = {r.run_id: self._samples.get(r.run_id) or pg.PlotCurveItem()
                         for r in runs}
        for layer in (self.raw_layer, self.main_layer):
            layer.set_order(order)
        self._set_pens()
        self.legend.rebuild([(self._samples[r.run_id], r.name) for r in runs])
        self._show_legend()
        self._rendered = None

    def set_pen_scale(self, scale: float) -> None:
        """Draw curves ``scale`` times wider, antialiased (for image exports at a DPI)."""
        self._pen_scale = float(scale)
        self._set_pens()

    def _set_pens(self) -> None:
        few = len(self._runs) <= FEW_RUNS
        k = getattr(self, "_pen_scale", 1.0)
        bg = pg.mkColor(pg.getConfigOption("background"))
        mains, raws = {}, {}
        for run in self._runs:
            color = pg.mkColor(run.color)
            mains[run.run_id] = pg.mkPen(color, width=(2 if few else 1) * k)
            raws[run.run_id] = pg.mkPen(blend(color, bg, RAW_MIX), width=k)
            self._samples[run.run_id].setPen(mains[run.run_id])
        self.main_layer.set_pens(mains, antialias=few or k != 1.0)
        self.raw_layer.set_pens(raws, antialias=few or k != 1.0)

    def pen_color(self, run_id: str, raw: bool = False) -> str | None:
        """The ``#rrggbb`` a run's curve is drawn with (for tests and tooltips)."""
        pen = (self.raw_layer if raw else self.main_layer).pen(run_id)
        return None if pen is None else pen.color().name()

    def drawn(self, run_id: str, raw: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """The (decimated) arrays currently drawn for a run, or None."""
        return (self.raw_layer if raw else self.main_layer).curve(run_id)

    def set_state(self, state: ViewState) -> None:
        old, self.state = self.state, state
        if state.x_axis != old.x_axis:
            self.getPlotItem().setAxisItems({"bottom": bottom_axis(state.x_axis)})
            self.apply_theme()
        if state.log_y != old.log_y:
            self.getPlotItem().setLogMode(y=state.log_y)
            self.vb.disableAutoRange()  # setLogMode turns auto-range back on
        self._show_legend()
        self._rendered = None

    def _show_legend(self) -> None:
        # Hidden while the crosshair readout (which names every run) is up.
        self.legend.setVisible(bool(self._runs) and self.state.show_legend
                               and not self.readout.isVisible())

    def set_displays(self, displays: Displays, pending: bool) -> None:
        """The series to draw (already smoothed, x sorted) and whether some are still loading."""
        self._displays = displays
        self._pending = pending
        self._rendered = None
        self._legend_stale = True
        self._update_placeholder()

    def x_extent(self) -> tuple[float, float] | None:
        lo = hi = None
        for main, raw in self._displays.values():
            ext = _shown((main, raw)).extent()
            if ext is not None:
                lo = ext[0] if lo is None else min(lo, ext[0])
                hi = ext[1] if hi is None else max(hi, ext[1])
        return None if lo is None else (lo, hi)

    # ---------------------------------------------------------------- drawing
    def pixels(self) -> int:
        w = int(self.vb.width())
        return w if w >= 50 else 800  # not laid out yet: assume a typical width

    def set_x_range_silently(self, x_range: tuple[float, float]) -> None:
        cur = self.vb.viewRange()[0]
        if (cur[0], cur[1]) == x_range:
            return
        self._silent = True
        try:
            self.vb.setXRange(*x_range, padding=0)
        finally:
            self._silent = False

    def render(self, x_range: tuple[float, float] | None) -> None:
        """Decimate every curve to ``x_range`` at the panel's pixel width and draw it;
        a no-op if nothing changed since the last call."""
        self._x_range = x_range
        if x_range is None:
            return
        pixels = self.pixels()
        if self._rendered == (x_range, pixels):
            return
        draw_raw = self.state.show_raw and self.state.smoothing > 0
        mains: dict[str, Display | None] = {}
        raws: dict[str, Display] = {}
        for run in self._runs:
            pair = self._displays.get(run.run_id)
            mains[run.run_id] = None if pair is None else _shown(pair)
            if draw_raw and pair is not None and pair[0] is not None:
                raws[run.run_id] = pair[1]
        shown = {r: d for r, d in mains.items() if d is not None}
        out = decimate_many(list(shown.values()), x_range, pixels)
        # Many faint raw curves under the smoothed ones: min/max per two pixel columns look
        # the same (every spike still shows) and halve what is drawn on each pan and zoom.
        raw_pixels = pixels if len(raws) <= FEW_RUNS else max(pixels // 2, 50)
        out += decimate_many(list(raws.values()), x_range, raw_pixels) if raws else []
        drawn = dict(zip(shown, out))
        # Only the x range changed (no new data or settings): a pan/zoom.
        moving = self._rendered is not None and self._rendered[1] == pixels
        self.main_layer.set_curves({r: drawn.get(r) for r in mains}, moving)
        if draw_raw:
            self.raw_layer.set_curves(dict(zip(raws, out[len(shown):])), moving)
        elif self.raw_layer.point_count():
            self.raw_layer.clear_curves()
        self.raw_layer.setVisible(draw_raw)
        self._rendered = (x_range, pixels)
        self._update_y_range(x_range)
        self._set_cached(False)
        self._cache_timer.start()

    def _set_cached(self, on: bool) -> None:
        mode = CurveLayer.CacheMode.DeviceCoordinateCache if on else CurveLayer.CacheMode.NoCache
        for layer in (self.raw_layer, self.main_layer):
            if layer.cacheMode() != mode:
                layer.setCacheMode(mode)

    def _rerender_after_resize(self) -> None:
        if self._x_range is not None and self._rendered is not None:
            if self._rendered[1] != self.pixels():
                self.render(self._x_range)

    def _update_y_range(self, x_range: tuple[float, float]) -> None:
        log_y = self.state.log_y
        if self.state.ignore_outliers:  # percentiles of the full-resolution values shown
            with_raw = self.state.show_raw and self.state.smoothing > 0
            ds = [d for pair in self._displays.values()
                  for d in (pair if with_raw else (_shown(pair),)) if d is not None]
            budget = OUTLIER_SAMPLE // max(len(ds), 1)
            arrays = [d.sample(x_range, budget) for d in ds]
        else:  # the drawn points hold every column's extremes: their bounds are exact
            bounds = [b for b in (self.main_layer.y_bounds(), self.raw_layer.y_bounds()
                                  if self.raw_layer.isVisible() else None) if b is not None]
            if not bounds:
                return
            arrays = [np.array([min(b[0] for b in bounds), max(b[1] for b in bounds)])]
            if log_y:
                arrays = [10.0 ** arrays[0]]
        rng = robust_y_range(arrays, self.state.ignore_outliers, log_y)
        if rng is None:
            return
        lo, hi = (np.log10(rng[0]), np.log10(rng[1])) if log_y else rng
        self.vb.setYRange(float(lo), float(hi), padding=0)
        if self._legend_stale:  # not on every pan: it reads every drawn point
            self._legend_stale = False
            self.legend.place([(x, y) for _, x, y in self.main_layer.drawn()])

    # ---------------------------------------------------------------- placeholder
    def _update_placeholder(self) -> None:
        has_points = any(len(_shown(pair)) for pair in self._displays.values())
        if has_points:
            text = ""
        elif self._pending:
            text = "loading…"
        elif self._runs:
            text = "no data"
        else:
            text = ""
        self._placeholder.show_text(text)

    def placeholder_text(self) -> str:
        return self._placeholder.text() if self._placeholder.isVisible() else ""

    # ---------------------------------------------------------------- crosshair
    def show_crosshair(self, x: float | None, header: str = "") -> None:
        """Move the vertical line to ``x`` and list every run's value there (smoothed
        value, raw value in brackets); ``None`` hides both."""
        if x is None:
            self.vline.hide()
            self.readout.hide()
            self._show_legend()
            return
        self.vline.setPos(x)
        self.vline.show()
        rows = []
        for run in self._runs:
            pair = self._displays.get(run.run_id)
            hit = _shown(pair).value_at(x) if pair is not None else None
            if hit is None:
                continue
            raw = pair[1].value_at(x) if pair[0] is not None else None
            rows.append((run.color, run.name, hit[1], None if raw is None else raw[1]))
        self.readout.show_rows(header, rows, self._scene_x_to_widget(x))
        self._show_legend()

    def _scene_x_to_widget(self, x: float) -> tuple[float, float, float, float]:
        """(line x, data area left, right, top) in widget pixels."""
        vb_rect = self.mapFromScene(self.vb.sceneBoundingRect()).boundingRect()
        pt = self.mapFromScene(self.vb.mapViewToScene(QPointF(x, self.vb.viewRange()[1][0])))
        return float(pt.x()), float(vb_rect.left()), float(vb_rect.right()), float(vb_rect.top())

    def readout_text(self) -> str:
        return self.readout.plain_text() if self.readout.isVisible() else ""

    # ---------------------------------------------------------------- events
    def _on_x_range(self, _vb, x_range) -> None:
        if not self._silent:
            self.sig_x_range.emit(self, (float(x_range[0]), float(x_range[1])))

    def _on_mouse_moved(self, evt) -> None:
        if not self._mouse_inside:
            return
        pos = evt[0]
        if self.vb.sceneBoundingRect().contains(pos):
            self.sig_mouse_x.emit(float(self.vb.mapSceneToView(pos).x()))
        else:
            self.sig_mouse_x.emit(None)

    def enterEvent(self, ev):  # noqa: N802 - Qt API
        self._mouse_inside = True
        super().enterEvent(ev)

    def leaveEvent(self, ev):  # noqa: N802 - Qt API
        self._mouse_inside = False
        super().leaveEvent(ev)
        self.sig_mouse_x.emit(None)

    def wheelEvent(self, ev):  # noqa: N802 - Qt API
        # A grid of panels scrolls with the wheel; Ctrl+wheel zooms the x axis.
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev)
        else:
            ev.ignore()

    def _on_clicked(self, ev) -> None:
        if ev.double():
            ev.accept()
            self.sig_double_clicked.emit()
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        run_id = self.run_at(ev.scenePos())
        if run_id is not None:
            self.sig_run_clicked.emit(run_id)

    def run_at(self, scene_pos) -> str | None:
        """The run whose drawn curve passes within a few pixels of ``scene_pos``."""
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.vb.mapSceneToView(scene_pos)
        layers = [(self.main_layer, 0.0), (self.raw_layer, 1.5)]  # prefer the smoothed curve
        return nearest_run(layers, p.x(), p.y(), *self.vb.viewPixelSize())

    # ---------------------------------------------------------------- theme
    def apply_theme(self) -> None:
        """Re-read pyqtgraph's background/foreground options (set by the app theme)."""
        bg = pg.mkColor(pg.getConfigOption("background"))
        fg = pg.mkColor(pg.getConfigOption("foreground"))
        self.setBackground(bg)
        pi = self.getPlotItem()
        muted = pg.mkColor(fg)
        muted.setAlpha(110)
        for name in ("left", "bottom"):
            axis = pi.getAxis(name)
            axis.setPen(pg.mkPen(muted))
            axis.setTextPen(pg.mkPen(fg))
        pi.showGrid(x=True, y=True, alpha=0.12)
        pi.setTitle(html.escape(self.key), color=fg.name(), size="9pt")
        line = pg.mkColor(fg)
        line.setAlpha(140)
        self.vline.setPen(pg.mkPen(line, width=1, style=Qt.PenStyle.DashLine))
        self.legend.apply_colors(bg, fg)
        self.readout.apply_colors(bg, fg)
        self._placeholder.apply_colors(fg)
        self._set_pens()
