"""The charts toolbar: key search, smoothing, x axis, log y, outliers, raw, legend, columns,
reset zoom."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QSpinBox,
    QToolButton,
    QWidget,
)

from superqt import QFlowLayout

from app.core.chart_settings import (
    COLUMNS_MAX,
    COLUMNS_MIN,
    SMOOTHING_MAX,
    X_AXES,
    ChartSettings,
)

_X_LABELS = {"step": "Step", "wall": "Wall time", "relative": "Relative time"}
#: The search box applies its text this long after the last keystroke.
FILTER_DEBOUNCE_MS = 150
_SLIDER_SCALE = 100


class ChartsToolbar(QWidget):
    """Edits a ChartSettings. ``sig_changed`` fires on user edits only, never on
    ``set_settings``."""

    sig_changed = Signal(object)  # ChartSettings
    sig_reset_zoom = Signal()

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
        self.columns.setToolTip("Panels per row")
        self.columns.setPrefix("Cols ")
        self.columns.valueChanged.connect(lambda v: self._edit(columns=v))

        self.reset = QToolButton(self)
        self.reset.setText("Reset zoom")
        self.reset.setToolTip(
            "Show all data (or double-click a chart). Drag to pan, Ctrl+wheel to zoom the x axis."
        )
        self.reset.clicked.connect(self.sig_reset_zoom)

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
                  self.raw, self.legend, self.columns, self.reset):
            w.setFixedHeight(row_height)  # equal heights: the flow layout top-aligns
            flow.addWidget(w)
        self.set_settings(self._settings)

    def settings(self) -> ChartSettings:
        return replace(self._settings)

    def set_settings(self, s: ChartSettings) -> None:
        """Show ``s`` in the controls without emitting ``sig_changed``."""
        self._settings = replace(s)
        widgets = (self.search, self.smoothing, self.x_axis, self.log_y, self.outliers,
                   self.raw, self.legend, self.columns)
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
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._search_timer.stop()
        self._show_smoothing(s.smoothing)
        self.raw.setEnabled(s.smoothing > 0)

    def _show_smoothing(self, value: float) -> None:
        self.smoothing_label.setText(f"{value:.2f}")

    def _on_smoothing(self, v: int) -> None:
        value = v / _SLIDER_SCALE
        self._show_smoothing(value)
        self.raw.setEnabled(value > 0)
        self._edit(smoothing=value)

    def _commit_search(self) -> None:
        self._search_timer.stop()
        self._edit(key_filter=self.search.text())

    def _edit(self, **changes) -> None:
        new = replace(self._settings, **changes)
        if new != self._settings:
            self._settings = new
            self.sig_changed.emit(replace(new))
