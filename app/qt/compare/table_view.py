"""Params, tags, metric summaries and environment of several runs side by side.

The ``best_step`` rows need full series: they are read on the worker thread, cached per
(run, key, point count), so a live update recomputes only the series that grew.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QFontMetrics, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
    QStackedLayout, QTableView, QToolButton, QVBoxLayout, QWidget,
)

from app.core.compare import best_step, to_csv, to_markdown
from app.qt.compare.table_model import FIRST_RUN_COL, KEY_COL, SECTION_COL, CellDelegate, CompareTableModel, SectionDelegate
from app.qt.theme import icon
from app.qt.workers import Worker
from tracker_sdk.entities import RunInfo

EMPTY_TEXT = "Select two or more runs and choose Compare"
#: At most this many metric keys get their best step computed from the full series.
MAX_BEST_STEP_KEYS = 50
SECTION_WIDTH = 88


class CompareTableView(QWidget):
    """Search, "differences only", copy/save buttons over a :class:`CompareTableModel`."""

    sig_run_clicked = Signal(str)  # run id, when its column header is clicked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = CompareTableModel(self)
        self._runs: list[RunInfo] = []
        self._colors: dict[str, str] = {}
        self._store: Any = None
        self._worker: Worker | None = None
        self._best: dict[tuple[str, str], tuple[int, int | None]] = {}  # (run, key) -> (count, step)
        self._best_busy = self._best_dirty = False
        self._scroll = (0, 0)
        self._widths: tuple[tuple[str, ...], list[int]] = ((), [])  # run ids, column widths

        self.search = QLineEdit(placeholderText="Search keys", clearButtonEnabled=True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setMaximumWidth(280)
        self.search.textChanged.connect(lambda t: self.model.set_filter(search=t))
        self.diff_only = QCheckBox("Differences only", toolTip="Hide rows where every run has the same value")
        self.diff_only.toggled.connect(lambda on: self.model.set_filter(differences_only=on))
        self.count = QLabel(objectName="PanelTitle")
        self.copy_md_button = self._button("Copy as Markdown", "copy", self.copy_markdown)
        self.copy_csv_button = self._button("Copy as CSV", "copy", self.copy_csv)
        self.save_button = self._button("Save CSV…", "export", lambda: self.save_csv())

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setItemDelegate(CellDelegate(self.table))
        self.table.setItemDelegateForColumn(SECTION_COL, SectionDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(60)
        header.sectionClicked.connect(self._on_header_clicked)
        copy = QAction("Copy", self.table, shortcut=QKeySequence.StandardKey.Copy,
                       shortcutContext=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        copy.triggered.connect(self.copy_selection)
        self.table.installEventFilter(self)  # the view eats Ctrl+C itself (copies one cell)
        md = QAction("Copy table as Markdown", self.table, triggered=self.copy_markdown)
        csv_ = QAction("Copy table as CSV", self.table, triggered=self.copy_csv)
        self.table.addActions([copy, md, csv_])
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.model.modelAboutToBeReset.connect(self._save_scroll)
        self.model.modelReset.connect(self._after_reset)
        self.model.layoutChanged.connect(self._update_count)

        self.empty = QLabel(EMPTY_TEXT, objectName="EmptyState")
        page = QWidget()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(8)
        top.addWidget(self.search, 1)
        top.addWidget(self.diff_only)
        top.addWidget(self.count)
        top.addStretch(1)
        for b in (self.copy_md_button, self.copy_csv_button, self.save_button):
            top.addWidget(b)
        col = QVBoxLayout(page)
        col.setContentsMargins(8, 8, 8, 8)
        col.setSpacing(6)
        col.addLayout(top)
        col.addWidget(self.table, 1)
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(page)

    def _button(self, text: str, icon_name: str, slot: Any) -> QToolButton:
        b = QToolButton(text=text, icon=icon(icon_name), autoRaise=True)
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        b.clicked.connect(slot)
        return b

    # --- input --------------------------------------------------------------------------------
    def set_runs(self, runs: Sequence[RunInfo], colors: Mapping[str, str], store: Any = None,
                 worker: Worker | None = None) -> None:
        """Show these runs (in this order). Call again with fresh snapshots to update live."""
        self._runs, self._colors = list(runs), dict(colors)
        self._store, self._worker = store, worker
        if len(self._runs) < 2:
            self.stack.setCurrentWidget(self.empty)
            self.model.set_data([], {})
            return
        self.stack.setCurrentIndex(1)
        self.model.set_data(self._runs, self._colors, self._known_best_steps())
        self._request_best_steps()

    # --- best steps (worker) ------------------------------------------------------------------
    def _known_best_steps(self) -> dict[tuple[str, str], int]:
        # A stale step (the series grew since) stays shown until its recomputation lands.
        return {k: step for k, (_count, step) in self._best.items() if step is not None}

    def _wanted_best_steps(self) -> list[tuple[str, str, int]]:
        keys = sorted({k for r in self._runs for k in r.metrics})[:MAX_BEST_STEP_KEYS]
        return [(r.id, k, r.metrics[k].count) for k in keys for r in self._runs
                if k in r.metrics and r.metrics[k].count > 1]

    def _request_best_steps(self) -> None:
        if self._store is None or self._worker is None:
            return
        if self._best_busy:
            self._best_dirty = True
            return
        todo = [w for w in self._wanted_best_steps() if self._best.get(w[:2], (None,))[0] != w[2]]
        if not todo:
            return
        store, self._best_busy = self._store, True

        def job() -> list[tuple[str, str, int, int | None]]:
            out = []
            for run_id, key, count in todo:
                try:
                    h = store.metric_history(run_id, key)
                    out.append((run_id, key, count, best_step(h.steps, h.values, key)))
                except Exception:  # run deleted meanwhile, store gone: the cell stays unknown
                    out.append((run_id, key, count, None))
            return out

        self._worker.submit(job, self._on_best_steps, self._on_best_steps_failed)

    def _on_best_steps(self, results: list[tuple[str, str, int, int | None]]) -> None:
        self._best_busy = False
        for run_id, key, count, step in results:
            self._best[(run_id, key)] = (count, step)
        if len(self._runs) >= 2:
            self.model.set_data(self._runs, self._colors, self._known_best_steps())
        if self._best_dirty:
            self._best_dirty = False
            self._request_best_steps()

    def _on_best_steps_failed(self, _error: BaseException) -> None:
        self._best_busy = self._best_dirty = False

    # --- view state -----------------------------------------------------------------------------
    def _save_scroll(self) -> None:
        self._scroll = (self.table.horizontalScrollBar().value(), self.table.verticalScrollBar().value())
        header = self.table.horizontalHeader()
        if header.count():
            self._widths = (self._widths[0], [header.sectionSize(c) for c in range(header.count())])

    def _after_reset(self) -> None:
        # A reset resets the header: keep the user's widths while the runs stay the same.
        ids = tuple(r.id for r in self.model.runs)
        if ids and ids == self._widths[0] and len(self._widths[1]) == self.model.columnCount():
            for c, w in enumerate(self._widths[1]):
                self.table.setColumnWidth(c, w)
        elif ids:
            self._fit_columns()
        self._widths = (ids, self._widths[1])
        h, v = self._scroll
        QTimer.singleShot(0, lambda: (self.table.horizontalScrollBar().setValue(h),
                                      self.table.verticalScrollBar().setValue(v)))
        self._update_count()

    def _fit_columns(self) -> None:
        """Content widths (measured over all rows, not only the laid-out ones), with the run
        columns sharing the room left so that 4-6 runs fit without scrolling."""
        fm, bold = self.table.fontMetrics(), QFont(self.table.font())
        bold.setBold(True)
        rows = self.model.all_rows[:2000]
        pad = 28  # item padding from the theme plus a margin
        key_w = max([QFontMetrics(bold).horizontalAdvance(r.key) for r in rows] + [100]) + pad
        key_w = min(key_w, 320)
        n = len(self.model.runs)
        room = (self.table.viewport().width() if self.table.isVisible() else self.width() - 20) - 16  # v. scrollbar
        share = max(140, (room - SECTION_WIDTH - key_w) // max(1, n))
        self.table.setColumnWidth(SECTION_COL, SECTION_WIDTH)
        self.table.setColumnWidth(KEY_COL, key_w)
        for i, name in enumerate(self.model.run_names()):
            head = QFontMetrics(bold).horizontalAdvance(name) + 26 + pad  # swatch, sort arrow
            vals = max((fm.horizontalAdvance(r.values[i]) for r in rows if r.values[i] is not None), default=0)
            self.table.setColumnWidth(FIRST_RUN_COL + i, max(110, min(max(head, vals + pad), share, 280)))

    def _update_count(self) -> None:
        total, shown = len(self.model.all_rows), len(self.model.rows)
        differ = sum(r.differs for r in self.model.all_rows)
        self.count.setText(f"{shown} of {total} rows · {differ} differ" if shown != total
                           else f"{total} rows · {differ} differ")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.table and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) \
                and event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            return True
        return super().eventFilter(obj, event)

    def _on_header_clicked(self, section: int) -> None:
        if section >= FIRST_RUN_COL and section - FIRST_RUN_COL < len(self.model.runs):
            self.sig_run_clicked.emit(self.model.runs[section - FIRST_RUN_COL].id)

    # --- export -------------------------------------------------------------------------------
    def markdown(self) -> str:
        """The rows shown (filtered and sorted as on screen) as a Markdown table."""
        return to_markdown(self.model.rows, self.model.run_names())

    def csv(self) -> str:
        return to_csv(self.model.rows, self.model.run_names())

    def copy_markdown(self) -> None:
        QGuiApplication.clipboard().setText(self.markdown())

    def copy_csv(self) -> None:
        QGuiApplication.clipboard().setText(self.csv())

    def save_csv(self, path: str | None = None) -> str | None:
        """Write the rows shown as CSV; asks where when ``path`` is None. Returns the path written."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save comparison as CSV", "compare.csv",
                                                  "CSV files (*.csv);;All files (*)")
            if not path:
                return None
        try:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(self.csv())
        except OSError as e:
            QMessageBox.warning(self, "Save CSV", f"Could not write {path}:\n{e.strerror or e}")
            return None
        return path

    def selection_tsv(self) -> str:
        """The selected cells as tab-separated text (missing cells empty, gaps kept)."""
        idx = self.table.selectionModel().selectedIndexes()
        if not idx:
            return ""
        cells = {(i.row(), i.column()): self.model.value(i.row(), i.column()) for i in idx}
        rows = sorted({r for r, _ in cells})
        cols = sorted({c for _, c in cells})

        def text(v: str | None) -> str:
            return "" if v is None else v.replace("\t", " ").replace("\n", " ")

        return "\n".join("\t".join(text(cells.get((r, c))) for c in cols) for r in rows) + "\n"

    def copy_selection(self) -> None:
        text = self.selection_tsv()
        if text:
            QGuiApplication.clipboard().setText(text)
