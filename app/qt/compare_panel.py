"""The Compare tab: runs side by side, their images, and the sweep views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTabWidget, QToolButton, QVBoxLayout, QWidget

from app.qt.compare import CompareTableView, ImagesCompareView
from app.qt.sweep.sweep_view import SweepView
from app.qt.theme import icon
from tracker_sdk.entities import RunInfo


class ComparePanel(QWidget):
    sig_run_clicked = Signal(str)
    sig_brushed = Signal(object)  # set of run ids, or None
    sig_pop_out = Signal()  # the user asks for Compare in its own window

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ids: list[str] = []
        self.title = QLabel(objectName="PanelTitle")
        self.table = CompareTableView()
        self.images = ImagesCompareView()
        self.sweep = SweepView()
        self.tabs = QTabWidget(documentMode=True)
        self.tabs.addTab(self.table, icon("table"), "Side by side")
        self.tabs.addTab(self.images, icon("image"), "Images")
        self.tabs.addTab(self.sweep, icon("chart"), "Sweep")
        self.pop_out = QToolButton(icon=icon("export"), autoRaise=True,
                                   toolTip="Open Compare in its own window (it stays live)")
        self.pop_out.clicked.connect(self.sig_pop_out)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title, 1)
        head.addWidget(self.pop_out)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(head)
        lay.addWidget(self.tabs, 1)
        self.table.sig_run_clicked.connect(self.sig_run_clicked)
        self.sweep.sig_run_clicked.connect(self.sig_run_clicked)
        self.sweep.sig_brushed.connect(self.sig_brushed)
        self._store: Any = None
        self._worker: Any = None

    def set_compare(self, runs: Sequence[RunInfo], colors: Mapping[str, str], store: Any, worker: Any) -> None:
        """The runs compared side by side (2 or more; also their images)."""
        self.ids = [r.id for r in runs]
        self._store, self._worker = store, worker
        self._show(runs, colors)

    def update_runs(self, runs: Mapping[str, RunInfo], colors: Mapping[str, str]) -> None:
        """Fresh snapshots arrived (live): refresh what is compared, if any changed."""
        if any(i in runs for i in self.ids):
            self._show([runs[i] for i in self.ids if i in runs], colors)

    def _show(self, runs: Sequence[RunInfo], colors: Mapping[str, str]) -> None:
        self.title.setText(f"Comparing {len(runs)} runs" if len(runs) >= 2 else "Compare")
        self.table.set_runs(runs, colors, self._store, self._worker)
        if self._store is not None:
            self.images.set_runs(runs, colors, self._store, self._worker)

    def set_sweep_runs(self, runs: Sequence[RunInfo]) -> None:
        self.sweep.set_runs(runs)
