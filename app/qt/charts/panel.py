"""The charts area: a toolbar over a scrolling grid of panels, one per metric key.

Data flow (DESIGN §4): the controller pushes full-resolution arrays with ``set_series``;
the view only stores them and marks the panel dirty. A coalescing timer (at most
~15 redraws a second) smooths (cached per run/key/weight), decimates to the panel's
pixel width for the shared x range and draws. Pan/zoom re-decimates synchronously,
from cached extreme-candidate levels, so no spike is ever hidden. No I/O here.

Grouped (``ChartSettings.group_by``, with ``set_run_info`` giving params and tags): each
panel draws one line per group with a band instead of the runs (``grouped.py``,
``bands.py``). A right click on a panel offers its PNG/SVG/CSV export (``export.py``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from app.core.chart_settings import ChartSettings
from app.qt.charts import export
from app.qt.charts.bands import BandOverlay, GroupLine
from app.qt.charts.controls import ChartsToolbar
from app.qt.charts.grouped import Grouping
from app.qt.charts.grid import PanelGrid
from app.qt.charts.groups import GroupSection
from app.qt.charts.items import format_duration
from app.qt.charts.plot import Displays, MetricPlot, RunEntry, ViewState
from app.qt.charts.series import Series, SeriesStore

#: Minimum time between two data-driven redraws (a 15 Hz cap while training streams in).
REDRAW_INTERVAL_MS = 66
_X_PAD = 0.02


class ChartsView(PanelGrid, QWidget):
    """Grid of metric panels overlaying the checked runs. See the module docstring."""

    sig_settings_changed = Signal(object)  # ChartSettings, after a user edit
    sig_series_wanted = Signal(list)  # [(run_id, key), ...] the view needs and lacks
    sig_run_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None, settings: ChartSettings | None = None):
        super().__init__(parent)
        self._settings = replace(settings) if settings else ChartSettings()
        self._runs: list[RunEntry] = []
        self._keys: list[str] = []
        self._store = SeriesStore()
        self._plots: dict[str, MetricPlot] = {}
        self._order: list[str] = []  # keys of the panels, in grid order
        self._sections: dict[str, GroupSection] = {}
        self._collapsed: set[str] = set()
        self._requested: set[tuple[str, str]] = set()
        self._dirty: set[str] = set()  # panels whose displays must be rebuilt
        self._x_auto = True
        self._x_range: tuple[float, float] | None = None
        self._syncing = False
        self._last_flush = 0.0
        self._shown: dict[str, list[RunEntry]] = {}  # the entries each panel draws
        self._menu = None
        self._grouping = Grouping(self)  # runs grouped by params/tags, bands
        self._grouping.sig_ready.connect(self._on_bands_ready)

        self.toolbar = ChartsToolbar(self)
        self.toolbar.set_settings(self._settings)
        self.toolbar.sig_changed.connect(self._on_user_settings)
        self.toolbar.sig_reset_zoom.connect(self.reset_zoom)
        self.toolbar.sig_export_csv.connect(lambda: export.csv_dialog(self, None, "charts"))

        self._empty = QLabel(self)
        self._empty.setObjectName("EmptyState")
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._grid_host = QWidget()
        self._grid_box = QVBoxLayout(self._grid_host)
        self._grid_box.setContentsMargins(8, 4, 8, 8)
        self._grid_box.setSpacing(4)
        self._grid_box.addStretch(1)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(self._grid_host)
        # Panel sizes and auto columns follow the scroll area's resizes (its layout runs after
        # this widget's resizeEvent, so that one would still see the old width).
        self.scroll.installEventFilter(self)
        self._stack = QStackedWidget(self)
        self._stack.addWidget(self._empty)
        self._stack.addWidget(self.scroll)

        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.toolbar)
        box.addWidget(self._stack, 1)

        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.redraw_now)
        try:  # restyle plots when the app theme changes
            from app.qt.theme import theme_notifier
        except ImportError:  # pragma: no cover
            pass
        else:
            theme_notifier().themeChanged.connect(self._on_theme_changed)
        self._update_empty_state()

    # ================================================================ public interface
    def settings(self) -> ChartSettings:
        return replace(self._settings)

    def set_settings(self, s: ChartSettings) -> None:
        """Apply settings (e.g. restored ones); does not emit ``sig_settings_changed``."""
        self.toolbar.set_settings(s)
        self._apply_settings(replace(s))

    def set_runs(self, runs: Sequence[tuple[str, str, str, int]]) -> None:
        """The runs to overlay, as (run_id, name, "#rrggbb", start_time_ms), in legend order."""
        entries = [RunEntry(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in runs]
        if entries == self._runs:
            return
        gone = {r.run_id for r in self._runs} - {r.run_id for r in entries}
        self._store.drop_runs(gone)
        self._requested = {p for p in self._requested if p[0] not in gone}
        self._runs = entries
        self._grouping.reset()
        self.toolbar.set_group_fields(self._grouping.fields(entries))
        self._dirty.update(self._plots)
        self._update_empty_state()
        self._request_missing()
        self._schedule()

    def set_run_info(self, runs: Mapping[str, object]) -> None:
        """The RunInfo of the checked runs, by id: their params and tags are what the
        "Group by" control offers and groups by. Optional (without it nothing groups)."""
        if not self._grouping.set_info(runs):
            return
        self.toolbar.set_group_fields(self._grouping.fields(self._runs))
        if self._settings.group_by:
            self._dirty.update(self._plots)
            self._schedule()

    def set_keys(self, keys: Sequence[str]) -> None:
        """Every metric key of the runs; one panel per key passing the filter."""
        new = list(dict.fromkeys(keys))
        if new == self._keys:
            return
        gone = set(self._keys) - set(new)
        self._store.drop_keys(gone)
        self._requested = {p for p in self._requested if p[1] not in gone}
        self._keys = new
        self._rebuild_grid()
        self._request_missing()
        self._schedule()

    def set_series(
        self,
        run_id: str,
        key: str,
        steps: np.ndarray,
        values: np.ndarray,
        timestamps: np.ndarray,
        appended: bool = False,
    ) -> None:
        """Full-resolution data of one (run, key), replacing what was there (call again
        with longer arrays to append live; ``appended`` says the earlier points are known
        unchanged, so only the new ones are looked at). Arrays are kept by reference, not
        copied: do not modify them afterwards. Empty arrays mean "this run has no such key"."""
        self._store.set(run_id, key, Series(steps, values, timestamps), appended)
        self._requested.discard((run_id, key))
        if key in self._plots:
            self._dirty.add(key)
            self._schedule()

    def reset_zoom(self) -> None:
        """Show all data on every panel (x to the full extent, y fitted)."""
        self._x_auto = True
        self.redraw_now()

    def show_crosshair_at(self, x: float | None) -> None:
        """Put the linked crosshair at ``x`` (plot units) on every panel; None hides it."""
        header = "" if x is None else self._format_x(x)
        if header and self._settings.group_by:
            header += f" · {self._settings.group_center}"
        for plot in self._visible_plots():
            plot.show_crosshair(x, header)

    def apply_theme(self) -> None:
        """Re-read pyqtgraph's background/foreground options on every panel."""
        for plot in self._plots.values():
            plot.apply_theme()
        self._grouping.apply_theme()

    def _on_theme_changed(self, _name: str) -> None:
        self.apply_theme()

    def plot(self, key: str) -> MetricPlot | None:
        """The panel of ``key`` (None if filtered out or unknown)."""
        return self._plots.get(key)

    def shown_runs(self) -> list[RunEntry]:
        """The runs overlaid (grouped or not), in legend order."""
        return list(self._runs)

    def shown_keys(self) -> list[str]:
        """The keys of the panels shown (passing the filter, in expanded sections)."""
        return [p.key for p in self._visible_plots()]

    def series(self, run_id: str, key: str) -> Series | None:
        """The full-resolution data the view holds for (run, key), as pushed."""
        return self._store.get(run_id, key)

    def run_groups(self, key: str) -> list[GroupLine]:
        """The group lines drawn on the panel of ``key`` (empty when not grouped)."""
        return list(self._grouping.lines.get(key, ()))

    def band_overlay(self, key: str) -> BandOverlay | None:
        return self._grouping.overlays.get(key)

    def busy(self) -> bool:
        """Whether group bands are still being computed in the background."""
        return self._grouping.busy()

    def redraw_now(self) -> None:
        """Run the pending redraw immediately (the timer normally does this)."""
        self._timer.stop()
        self._last_flush = time.monotonic()
        state = self._view_state()
        visible = self._visible_plots()
        for plot in visible:
            if plot.key in self._dirty:
                self._dirty.discard(plot.key)
                self._fill(plot, state)
        if self._x_auto:
            extents = [e for e in (p.x_extent() for p in visible) if e is not None]
            if extents:
                self._x_range = _padded(min(e[0] for e in extents), max(e[1] for e in extents))
        if self._x_range is None:
            return
        self._syncing = True
        try:
            for plot in visible:
                plot.set_x_range_silently(self._x_range)
        finally:
            self._syncing = False
        for plot in visible:
            plot.render(self._x_range)
            self._grouping.sync(plot.key, self._x_range)

    # ================================================================ settings
    def _on_user_settings(self, s: ChartSettings) -> None:
        self._apply_settings(s)
        self.sig_settings_changed.emit(self.settings())

    def _apply_settings(self, s: ChartSettings) -> None:
        old, self._settings = self._settings, s
        if (s.key_filter, s.columns) != (old.key_filter, old.columns):
            self._rebuild_grid()
            self._request_missing()
        if (s.group_by, s.group_center, s.group_band) != (old.group_by, old.group_center,
                                                          old.group_band):
            self._grouping.reset(settings=True)
        if s.x_axis != old.x_axis:
            self._x_auto = True  # the old range is in other units
            self._x_range = None
        if s != old:
            self._dirty.update(self._plots)
            self._schedule()

    def _view_state(self) -> ViewState:
        s = self._settings
        return ViewState(s.x_axis, s.smoothing, s.log_y, s.ignore_outliers, s.show_raw,
                         s.show_legend)

    # ================================================================ grid (more in grid.py)
    def _new_plot(self, key: str) -> MetricPlot:
        plot = MetricPlot(key, self._grid_host)
        plot.set_state(self._view_state())
        plot.sig_x_range.connect(self._on_plot_x_range)
        plot.sig_mouse_x.connect(self.show_crosshair_at)
        plot.sig_double_clicked.connect(self.reset_zoom)
        plot.sig_run_clicked.connect(self._on_run_clicked)
        plot.scene().sigMouseClicked.connect(lambda ev, p=plot: self._on_plot_click(p, ev))
        self._grouping.attach(plot)
        self._plots[key] = plot
        self._dirty.add(key)
        return plot

    # ================================================================ data
    def _request_missing(self) -> None:
        missing = [
            (run.run_id, plot.key)
            for plot in self._visible_plots()
            for run in self._runs
            if (run.run_id, plot.key) not in self._store
            and (run.run_id, plot.key) not in self._requested
        ]
        if missing:
            self._requested.update(missing)
            self.sig_series_wanted.emit(missing)

    def _fill(self, plot: MetricPlot, state: ViewState) -> None:
        """Hand a panel what it draws: every run, or (grouped) one line per group."""
        if self._settings.group_by:
            entries, displays, pending = self._grouping.content(
                plot.key, self._runs, self._store, self._settings, state)
        else:
            entries = self._runs
            displays, pending = self._displays_for(plot.key, state)
            self._grouping.set_lines(plot.key, [], state.log_y)
        if entries != self._shown.get(plot.key):
            self._shown[plot.key] = entries
            plot.set_runs(entries)
        plot.set_state(state)
        plot.set_displays(displays, pending)

    def _on_bands_ready(self, key: str) -> None:
        if key in self._plots:
            self._dirty.add(key)
            self._schedule()

    def _on_run_clicked(self, run_id: str) -> None:
        if any(r.run_id == run_id for r in self._runs):  # not a group line
            self.sig_run_clicked.emit(run_id)

    def _on_plot_click(self, plot: MetricPlot, ev) -> None:
        if ev.button() == Qt.MouseButton.RightButton and not ev.double():
            ev.accept()
            self._menu = export.plot_menu(self, plot)
            self._menu.popup(ev.screenPos().toPoint())

    def _displays_for(self, key: str, state: ViewState) -> tuple[Displays, bool]:
        out: Displays = {}
        pending = False
        for run in self._runs:
            series = self._store.get(run.run_id, key)
            if series is None:
                pending = True
                continue
            raw = series.display(state.x_axis, run.start_ms, 0.0, state.log_y)
            smoothed = None
            if state.smoothing > 0:
                smoothed = series.display(state.x_axis, run.start_ms, state.smoothing, state.log_y)
            out[run.run_id] = (smoothed, raw)
        return out, pending

    def _schedule(self) -> None:
        if self._timer.isActive():
            return
        since = (time.monotonic() - self._last_flush) * 1000.0
        self._timer.start(int(max(0.0, REDRAW_INTERVAL_MS - since)))

    # ================================================================ x range
    def _on_plot_x_range(self, source: MetricPlot, x_range: tuple[float, float]) -> None:
        """A user pan/zoom (or a programmatic setXRange) on one panel: all follow."""
        if self._syncing:
            return
        self._x_auto = False
        self._x_range = x_range
        visible = self._visible_plots()
        self._syncing = True
        try:
            for plot in visible:
                if plot is not source:
                    plot.set_x_range_silently(x_range)
        finally:
            self._syncing = False
        for plot in visible:
            if plot.key not in self._dirty:
                plot.render(x_range)
                self._grouping.sync(plot.key, x_range)
        if self._dirty:
            self._schedule()

    def _format_x(self, x: float) -> str:
        mode = self._settings.x_axis
        if mode == "wall":
            try:
                return datetime.fromtimestamp(x).strftime("%Y-%m-%d %H:%M:%S")
            except (OverflowError, OSError, ValueError):
                return ""
        if mode == "relative":
            return format_duration(x)
        return f"step {x:,.0f}"


def _padded(lo: float, hi: float) -> tuple[float, float]:
    span = hi - lo
    if span <= 0:
        half = max(abs(lo) * 0.05, 0.5)
        return lo - half, hi + half
    return lo - span * _X_PAD, hi + span * _X_PAD
