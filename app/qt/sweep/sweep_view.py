"""The sweep panel: a colour-by metric shared by parallel coordinates, scatter and 'what
mattered'. ``set_runs`` takes each fresh snapshot and keeps the user's choices (metric, axes,
brushes) where they still apply; brushing emits the passing run ids for the runs table."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QStackedWidget, QTabBar, QVBoxLayout, QWidget

from app.core.correlation import ParamCorrelation, param_importance
from app.qt.sweep import STATS, SweepData, default_metric
from app.qt.sweep.importance import ImportanceView
from app.qt.sweep.parallel import MAX_AXES, ParallelCoords
from app.qt.sweep.scatter import ScatterView
from tracker_sdk.entities import RunInfo

TABS = ("Parallel coordinates", "Scatter", "What mattered")


class SweepView(QWidget):
    sig_brushed = Signal(object)  # set of run ids passing every brush, or None: no brush
    sig_run_clicked = Signal(str)
    sig_run_hovered = Signal(str)  # "" when the cursor leaves the runs

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runs: list[RunInfo] = []
        self._data: SweepData | None = None
        self._metric: str | None = None
        self._stat = "last"
        self._metric_keys: list[str] = []
        self._importance: list[ParamCorrelation] | None = None
        self._emitted: set[str] | None = None
        self._rebuilding = False
        self._dirty = False

        self.tabs = QTabBar(expanding=False, drawBase=False)
        for t in TABS:
            self.tabs.addTab(t)
        self.metric_combo = QComboBox(toolTip="Colour runs by this metric")
        self.metric_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.metric_combo.setMinimumContentsLength(12)
        self.metric_combo.setMaxVisibleItems(24)
        self.stat_combo = QComboBox(toolTip="Which value of each run's metric: last logged, minimum or maximum")
        self.stat_combo.addItems(STATS)
        self.count_label = QLabel()
        self.count_label.setObjectName("PanelTitle")
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 6, 8, 2)
        bar.addWidget(self.tabs)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Colour by"))
        bar.addWidget(self.metric_combo)
        bar.addWidget(self.stat_combo)

        self.parallel = ParallelCoords()
        self.scatter = ScatterView()
        self.importance = ImportanceView()
        self.empty = QLabel("No runs to compare yet.", alignment=Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("EmptyState")
        self.stack = QStackedWidget()
        for w in (self.parallel, self.scatter, self.importance, self.empty):
            self.stack.addWidget(w)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addLayout(bar)
        box.addWidget(self.stack, 1)

        self.tabs.currentChanged.connect(self._show_tab)
        self.metric_combo.activated.connect(lambda _i: self.set_metric(self.metric_combo.currentText(), self._stat))
        self.stat_combo.activated.connect(lambda _i: self.set_metric(self._metric, self.stat_combo.currentText()))
        self.parallel.sig_brush_changed.connect(self._on_brush)
        self.importance.sig_param_chosen.connect(self._plot_param)
        for view in (self.parallel, self.scatter):
            view.sig_run_clicked.connect(self.sig_run_clicked)
            view.sig_run_hovered.connect(self.sig_run_hovered)
        self._show_tab(0)

    # ------------------------------------------------------------------------- public
    def set_runs(self, runs: Sequence[RunInfo]) -> None:
        """A fresh snapshot (call again whenever runs change). Cheap when nothing changed; while
        the panel is hidden in a shown window the work waits for it to show, unless a brush
        is active (the runs table then still needs the passing ids of new runs)."""
        runs = list(runs)
        same = len(runs) == len(self._runs) and all(a is b for a, b in zip(runs, self._runs))
        self._runs = runs
        keys = sorted({k for r in self._runs for k in r.metrics})
        if keys != self._metric_keys:
            self._metric_keys = keys
            self.metric_combo.blockSignals(True)
            self.metric_combo.clear()
            self.metric_combo.addItems(keys)
            self.metric_combo.blockSignals(False)
        if self._metric not in keys:
            self._metric = default_metric(keys)
        if same and not self._dirty:
            return
        win = self.window()
        if win is not self and win.isVisible() and not self.isVisible() and not self.parallel.brushes():
            self._dirty = True
            return
        self._rebuild()

    def shown_runs(self) -> list[RunInfo]:
        """The runs the sweep views were last given."""
        return list(self._runs)

    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        if self._dirty:
            self._rebuild()

    def color_by(self) -> tuple[str | None, str]:
        """The colour-by metric and its summary (last/min/max)."""
        return self._metric, self._stat

    def set_metric(self, key: str | None, stat: str = "last") -> None:
        if stat not in STATS:
            raise ValueError(f"stat must be one of {STATS}, got {stat!r}")
        self._metric, self._stat = key, stat
        self._rebuild()

    def set_tab(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)

    def set_current_run(self, run_id: str | None) -> None:
        """Mark the run selected elsewhere (e.g. in the runs table)."""
        self.parallel.set_current_run(run_id)
        self.scatter.set_current_run(run_id)

    def brushed_ids(self) -> set[str] | None:
        return self.parallel.passing_ids()

    def importance_rows(self) -> list[ParamCorrelation]:
        """Each param against the colour-by metric (summary chosen), strongest first."""
        if self._importance is None:
            d, key = self._data, self._metric
            if d is None or key is None or d.color is None:
                self._importance = []
            elif self._stat == "last":
                self._importance = param_importance(d.runs, key)
            else:  # param_importance reads .last: hand it the chosen summary under that name
                stat = self._stat
                proxies = [SimpleNamespace(params=r.params, metrics={
                    key: SimpleNamespace(last=getattr(r.metrics[key], stat))} if key in r.metrics else {})
                    for r in d.runs]
                self._importance = param_importance(proxies, key)  # type: ignore[arg-type]
        return self._importance

    # ------------------------------------------------------------------------ private
    def _rebuild(self) -> None:
        self._dirty = False
        color = (self._metric, self._stat) if self._metric else None
        self._data = d = SweepData(self._runs, color)
        self._importance = None
        for combo, text in ((self.metric_combo, self._metric), (self.stat_combo, self._stat)):
            i = combo.findText(text or "")
            if i >= 0:
                combo.setCurrentIndex(i)
        self.stat_combo.setEnabled(self._metric is not None)
        order = [c.key for c in self.importance_rows()] if len(d.param_keys) > MAX_AXES else None
        self._rebuilding = True
        try:
            self.parallel.set_data(d, order)
        finally:
            self._rebuilding = False
        ids = self.parallel.passing_ids()
        self.scatter.set_data(d, lambda: [c.key for c in self.importance_rows()], highlight=ids)
        self.importance.set_data(d, self.importance_rows)
        self._show_tab(self.tabs.currentIndex())
        self._report(ids)

    def _show_tab(self, index: int) -> None:
        views = (self.parallel, self.scatter, self.importance)
        self.stack.setCurrentWidget(views[max(index, 0)] if self._runs else self.empty)

    def _on_brush(self) -> None:
        if self._rebuilding:
            return
        ids = self.parallel.passing_ids()
        self.scatter.set_highlight(ids)
        self._report(ids)

    def _report(self, ids: set[str] | None) -> None:
        n = len(self._runs)
        if ids is None:
            self.count_label.setText(f"{n} runs" if n != 1 else "1 run")
        else:
            self.count_label.setText(f"{len(ids)} of {n} runs pass the filters")
        if ids != self._emitted:
            self._emitted = ids
            self.sig_brushed.emit(ids)

    def _plot_param(self, key: str) -> None:
        self.scatter.set_x(("param", key))
        self.tabs.setCurrentIndex(1)
