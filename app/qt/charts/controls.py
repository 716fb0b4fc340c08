"""The charts toolbar: key search, smoothing, x axis, log y, outliers, raw, legend, columns,
group by (with line and band), reset zoom, export."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from superqt import QFlowLayout

from app.core.chart_settings import (
    COLUMNS_MAX,
    COLUMNS_MIN,
    GROUP_BANDS,
    GROUP_CENTERS,
    SMOOTHING_MAX,
    X_AXES,
    ChartSettings,
)

_X_LABELS = {"step": "Step", "wall": "Wall time", "relative": "Relative time"}
#: The search box applies its text this long after the last keystroke.
FILTER_DEBOUNCE_MS = 150
_SLIDER_SCALE = 100
_CENTER_LABELS = {"mean": "Mean", "median": "Median"}
_BAND_LABELS = {"minmax": "Min–max band", "std": "± std dev", "stderr": "± std error",
                "none": "No band"}
GROUP_TIP = (
    "Group runs by params or tags (e.g. the seeds of one config): one line per group with "
    "a band, the legend showing how many runs each line stands for.\nEach run is smoothed "
    "first, then the smoothed curves are aggregated (as TensorBoard and W&B do)."
)


class _StickyMenu(QMenu):
    """Checkable entries toggle without closing the menu, so several can be picked."""

    def mouseReleaseEvent(self, ev):  # noqa: N802 - Qt API
        action = self.activeAction()
        if action is not None and action.isEnabled() and action.isCheckable():
            action.trigger()
            return
        super().mouseReleaseEvent(ev)


def _short(field: str) -> str:
    return field.partition(".")[2]


#: An instant-popup button's chevron sits at its bottom right over the text by default.
_MENU_BUTTON_STYLE = ("QToolButton { padding-right: 18px; }"
                      " QToolButton::menu-indicator { subcontrol-position: center right;"
                      " right: 4px; }")


class ChartsToolbar(QWidget):
    """Edits a ChartSettings. ``sig_changed`` fires on user edits only, never on
    ``set_settings``."""

    sig_changed = Signal(object)  # ChartSettings
    sig_reset_zoom = Signal()
    sig_export_csv = Signal()  # every shown chart's data as one CSV

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ChartsToolbar")
        self._settings = ChartSettings()

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter metrics (text or glob: train/*)")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(140)
        self._search_timer = QTimer(self, singleShot=True, interval=FILTER_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._commit_search)
        self.search.textEdited.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self._commit_search)

        self.smoothing = QSlider(Qt.Orientation.Horizontal, self)
        self.smoothing.setRange(0, round(SMOOTHING_MAX * _SLIDER_SCALE))
        self.smoothing.setFixedWidth(110)
        self.smoothing.setToolTip(
            "Smoothing: debiased exponential moving average (TensorBoard's), computed on "
            "every logged point. 0 = off."
        )
        self.smoothing_label = QLabel(self)
        self.smoothing_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("0.00") + 4)
        self.smoothing.valueChanged.connect(self._on_smoothing)

        self.x_axis = QComboBox(self)
        for mode in X_AXES:
            self.x_axis.addItem(_X_LABELS[mode], mode)
        self.x_axis.setToolTip("X axis")
        self.x_axis.currentIndexChanged.connect(
            lambda _i: self._edit(x_axis=self.x_axis.currentData())
        )

        self.log_y = QCheckBox("Log y", self)
        self.log_y.setToolTip("Logarithmic y axis (values <= 0 are not drawn)")
        self.log_y.toggled.connect(lambda on: self._edit(log_y=on))
        self.outliers = QCheckBox("Ignore outliers", self)
        self.outliers.setToolTip(
            "Fit the y axis to the 5th-95th percentile band (no data is hidden)"
        )
        self.outliers.toggled.connect(lambda on: self._edit(ignore_outliers=on))
        self.raw = QCheckBox("Raw", self)
        self.raw.setToolTip("Draw the unsmoothed values faintly under the smoothed curve")
        self.raw.toggled.connect(lambda on: self._edit(show_raw=on))

        self.legend = QCheckBox("Legend", self)
        self.legend.setToolTip("Show a legend in each chart (hovering lists every run's value)")
        self.legend.toggled.connect(lambda on: self._edit(show_legend=on))

        self.columns = QSpinBox(self)
        self.columns.setRange(COLUMNS_MIN, COLUMNS_MAX)
        self.columns.setToolTip("Panels per row (auto: as many as fit at a readable size)")
        self.columns.setPrefix("Cols ")
        self.columns.setSpecialValueText("Cols auto")  # shown at COLUMNS_AUTO, the minimum
        self.columns.valueChanged.connect(lambda v: self._edit(columns=v))

        self.reset = QToolButton(self)
        self.reset.setText("Reset zoom")
        self.reset.setToolTip(
            "Show all data (or double-click a chart). Drag to pan, Ctrl+wheel to zoom the x axis."
        )
        self.reset.clicked.connect(self.sig_reset_zoom)

        self._fields: list[str] = []
        self.group = QToolButton(self)
        self.group.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.group.setToolTip(GROUP_TIP)
        self.group.setStyleSheet(_MENU_BUTTON_STYLE)
        self.group_menu = _StickyMenu(self.group)
        self.group_menu.aboutToShow.connect(self._fill_group_menu)
        self.group.setMenu(self.group_menu)
        self.center = QComboBox(self)
        for c in GROUP_CENTERS:
            self.center.addItem(_CENTER_LABELS[c], c)
        self.center.setToolTip("Each group's line: the mean or the median of its runs")
        self.center.currentIndexChanged.connect(
            lambda _i: self._edit(group_center=self.center.currentData()))
        self.band = QComboBox(self)
        for b in GROUP_BANDS:
            self.band.addItem(_BAND_LABELS[b], b)
        self.band.setToolTip("Each group's band: the range of its runs, or the line ± the "
                             "standard deviation or standard error of the mean")
        self.band.currentIndexChanged.connect(
            lambda _i: self._edit(group_band=self.band.currentData()))
        group_box = QWidget(self)
        gbox = QHBoxLayout(group_box)
        gbox.setContentsMargins(0, 0, 0, 0)
        gbox.setSpacing(4)
        for w in (self.group, self.center, self.band):
            gbox.addWidget(w)

        self.export = QToolButton(self)
        self.export.setText("Export")
        self.export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.export.setStyleSheet(_MENU_BUTTON_STYLE)
        export_menu = QMenu(self.export)
        export_menu.addAction("All shown charts' data as CSV…", self.sig_export_csv.emit)
        hint = export_menu.addAction("Right-click a chart to export it as PNG, SVG or CSV")
        hint.setEnabled(False)
        self.export.setMenu(export_menu)

        # A flow layout: the controls wrap onto a second row when the charts area is
        # narrow instead of forcing a minimum width on the whole window.
        smoothing_box = QWidget(self)
        box = QHBoxLayout(smoothing_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        box.addWidget(QLabel("Smoothing", smoothing_box))
        box.addWidget(self.smoothing)
        box.addWidget(self.smoothing_label)
        self.search.setFixedWidth(260)
        self.columns.setFixedWidth(self.columns.sizeHint().width() - 24)
        flow = QFlowLayout(self)
        flow.setContentsMargins(6, 4, 6, 4)
        flow.setHorizontalSpacing(12)
        flow.setVerticalSpacing(4)
        row_height = max(self.x_axis.sizeHint().height(), self.search.sizeHint().height())
        for w in (self.search, smoothing_box, self.x_axis, self.log_y, self.outliers,
                  self.raw, self.legend, self.columns, group_box, self.reset, self.export):
            w.setFixedHeight(row_height)  # equal heights: the flow layout top-aligns
            flow.addWidget(w)
        self.set_settings(self._settings)

    def settings(self) -> ChartSettings:
        return replace(self._settings)

    def set_settings(self, s: ChartSettings) -> None:
        """Show ``s`` in the controls without emitting ``sig_changed``."""
        self._settings = replace(s)
        widgets = (self.search, self.smoothing, self.x_axis, self.log_y, self.outliers,
                   self.raw, self.legend, self.columns, self.center, self.band)
        for w in widgets:
            w.blockSignals(True)
        try:
            if self.search.text() != s.key_filter:
                self.search.setText(s.key_filter)
            self.smoothing.setValue(round(s.smoothing * _SLIDER_SCALE))
            self.x_axis.setCurrentIndex(max(self.x_axis.findData(s.x_axis), 0))
            self.log_y.setChecked(s.log_y)
            self.outliers.setChecked(s.ignore_outliers)
            self.raw.setChecked(s.show_raw)
            self.legend.setChecked(s.show_legend)
            self.columns.setValue(s.columns)
            self.center.setCurrentIndex(max(self.center.findData(s.group_center), 0))
            self.band.setCurrentIndex(max(self.band.findData(s.group_band), 0))
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._search_timer.stop()
        self._show_smoothing(s.smoothing)
        self._show_group(s.group_by)

    def set_group_fields(self, fields: list[str]) -> None:
        """The ``params.<k>`` / ``tags.<k>`` the "Group by" menu offers."""
        self._fields = list(fields)

    def _show_group(self, by: tuple[str, ...]) -> None:
        text = "Group: " + ", ".join(_short(f) for f in by) if by else "Group by"
        self.group.setText(text if len(text) <= 32 else text[:31] + "…")
        self.center.setVisible(bool(by))
        self.band.setVisible(bool(by))
        self._enable_raw()

    def _enable_raw(self) -> None:  # no raw curves under group lines
        self.raw.setEnabled(self._settings.smoothing > 0 and not self._settings.group_by)

    def _fill_group_menu(self) -> None:
        menu, by = self.group_menu, self._settings.group_by
        menu.clear()
        none = menu.addAction("None (one line per run)", lambda: self._edit(group_by=()))
        none.setEnabled(bool(by))
        fields = self._fields + [f for f in by if f not in self._fields]
        for source, title in (("params", "Params"), ("tags", "Tags")):
            mine = [f for f in fields if f.startswith(source + ".")]
            if mine:  # a disabled title: Fusion draws addSection() as a bare line
                menu.addSeparator()
                menu.addAction(title).setEnabled(False)
            for f in mine:
                act = menu.addAction(_short(f))
                act.setCheckable(True)
                act.setChecked(f in by)
                act.toggled.connect(lambda on, f=f: self._toggle_group(f, on))
        if not fields:
            menu.addAction("The shown runs have no params or tags").setEnabled(False)

    def _toggle_group(self, field: str, on: bool) -> None:
        by = [f for f in self._settings.group_by if f != field] + ([field] if on else [])
        self._edit(group_by=tuple(by))

    def _show_smoothing(self, value: float) -> None:
        self.smoothing_label.setText(f"{value:.2f}")

    def _on_smoothing(self, v: int) -> None:
        value = v / _SLIDER_SCALE
        self._show_smoothing(value)
        self._edit(smoothing=value)
        self._enable_raw()

    def _commit_search(self) -> None:
        self._search_timer.stop()
        self._edit(key_filter=self.search.text())

    def _edit(self, **changes) -> None:
        old = self._settings
        new = replace(old, **changes)
        if new != old:
            self._settings = new
            if new.group_by != old.group_by:
                self._show_group(new.group_by)
            self.sig_changed.emit(replace(new))
