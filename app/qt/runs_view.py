"""The runs table with its filter bar and column chooser."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.columns import Column, available_columns
from app.core.commands import EDIT_ACTIONS
from app.qt.runs_delegate import NameDelegate
from app.qt.runs_model import RUN_ID_ROLE, RunsTableModel
from app.qt.theme import icon, set_style_property
from tracker_sdk.entities import RunStatus
from tracker_sdk.errors import FilterSyntaxError
from tracker_sdk.query import parse_filter

FILTER_HINT = "Filter runs, e.g.  metrics.`val/loss` < 0.3 and params.optimizer = 'adam'"


class RunsView(QWidget):
    """Shows a :class:`RunsTableModel`; emits what the user asks for, changes nothing itself."""

    sig_selection_changed = Signal(list)  # run ids, in table order
    sig_filter_changed = Signal(str)  # a filter that parsed ("" = none)
    sig_columns_changed = Signal(list)  # column ids
    sig_action = Signal(str, list)  # action name, run ids
    sig_run_activated = Signal(str)  # double-click

    def __init__(self, model: RunsTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.filter = QLineEdit(objectName="FilterBar", placeholderText=FILTER_HINT, clearButtonEnabled=True)
        self.filter.addAction(icon("filter"), QLineEdit.ActionPosition.LeadingPosition)
        self.filter.returnPressed.connect(self._apply_filter)
        self._filter_timer = QTimer(self, singleShot=True, interval=400)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter.textEdited.connect(lambda _t: self._filter_timer.start())
        self.error = QLabel(objectName="FilterError", textFormat=Qt.TextFormat.RichText, wordWrap=True)
        self.error.setStyleSheet("color: #e5484d; padding: 2px 4px;")
        self.error.hide()
        self.columns_button = QToolButton(text="Columns", icon=icon("columns"),
                                          toolTip="Choose the columns of the runs table",
                                          popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.columns_menu = QMenu(self)
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        self.columns_button.setMenu(self.columns_menu)
        self.count = QLabel(objectName="RunCount")

        self.table = QTableView(self)
        self.table.setModel(model)
        self.table.setItemDelegate(NameDelegate(self.table))
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(96)
        header.setMinimumSectionSize(28)
        header.setResizeContentsPrecision(60)  # size columns from a sample, not 10,000 rows
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(self._on_double_click)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._emit_selection())
        model.modelReset.connect(self._on_reset)
        model.layoutChanged.connect(self._update_count)
        model.rowsInserted.connect(self._update_count)
        model.rowsRemoved.connect(self._update_count)
        model.sig_checked_changed.connect(self._update_count)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter, 1)
        top.addWidget(self.columns_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 0)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(self.error)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.count)

        # Running rows pulse gently: only their status cells repaint.
        self._pulse = QTimer(self, interval=120)
        self._pulse.timeout.connect(self._tick_pulse)
        self._pulse.start()
        self._phase = 0
        self._fitted = False
        self._add_shortcuts()

    # --- filter -------------------------------------------------------------------------------
    def _apply_filter(self) -> None:
        self._filter_timer.stop()
        text = self.filter.text().strip()
        try:
            parse_filter(text)
        except FilterSyntaxError as e:
            self.show_filter_error(e.message, e.position)
            return
        self.show_filter_error(None)
        self.sig_filter_changed.emit(text)

    def show_filter_error(self, message: str | None, position: int = 0) -> None:
        """Underline where the filter went wrong and say why (None clears)."""
        set_style_property(self.filter, "error", "true" if message else "false")
        if not message:
            self.error.hide()
            self.filter.setToolTip("")
            return
        text = self.filter.text()
        pos = max(0, min(position, len(text)))
        bad = text[pos:pos + max(1, len(text[pos:].split(" ")[0]))] or " "
        shown = (f"<code>{html.escape(text[:pos])}<span style='text-decoration: underline wavy; "
                 f"background: rgba(229,72,77,0.25)'>{html.escape(bad)}</span>"
                 f"{html.escape(text[pos + len(bad):])}</code>")
        self.error.setText(f"{shown}<br>{html.escape(message)} (position {pos + 1})")
        self.error.show()
        self.filter.setToolTip(message)

    # --- columns ------------------------------------------------------------------------------
    def _fill_columns_menu(self) -> None:
        menu = self.columns_menu
        menu.clear()
        current = {c.id for c in self.model.columns}
        groups: dict[str, QMenu] = {}
        for col in available_columns(self.model.runs.values()):
            section = {"param": "Params", "metric": "Metrics"}.get(col.kind)
            target = menu if section is None else groups.setdefault(section, menu.addMenu(section))
            label = col.title if col.kind != "metric" else f"{col.key} · {col.stat}"
            act = target.addAction(label)
            act.setCheckable(True)
            act.setChecked(col.id in current)
            act.toggled.connect(lambda on, c=col: self._toggle_column(c, on))

    def _toggle_column(self, col: Column, on: bool) -> None:
        cols = [c for c in self.model.columns if c.id != col.id]
        if on:
            cols.append(col)
        self.model.set_columns(cols)
        self.sig_columns_changed.emit([c.id for c in cols])

    # --- selection and actions ----------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r] for r in rows if r < len(self.model.rows)]

    def select_run(self, run_id: str) -> None:
        row = self.model.reveal(run_id)  # a child of a collapsed parent: unfold it first
        if row >= 0:
            self.table.selectionModel().select(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.table.scrollTo(self.model.index(row, 0))

    def _emit_selection(self) -> None:
        self.sig_selection_changed.emit(self.selected_ids())

    def _on_reset(self) -> None:
        self._update_count()
        if not self._fitted and self.model.rows and self.model.columns:
            self._fitted = True
            self._fit_columns()

    def _fit_columns(self) -> None:
        """Size columns to their contents once, within sensible bounds (the user may resize)."""
        if not self.model.rows:
            return
        header = self.table.horizontalHeader()
        self.table.resizeColumnsToContents()
        header.resizeSection(0, 52)
        for i in range(1, self.model.columnCount()):
            header.resizeSection(i, max(56, min(header.sectionSize(i) + 12, 220)))

    def _update_count(self, *_: object) -> None:
        listed = self.model.listed_ids  # a collapsed parent's children are still listed
        n, total = len(listed), sum(1 for r in self.model.runs.values() if not r.deleted)
        checked = len(self.model.checked & set(listed))
        self.count.setText(f"{n} of {total} runs · {checked} in charts" if n != total
                           else f"{n} runs · {checked} in charts")

    def _on_double_click(self, index: QModelIndex) -> None:
        if index.column() != 0:
            self.sig_run_activated.emit(index.data(RUN_ID_ROLE))

    def actions_for(self, ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """(action, label, icon) available for these runs."""
        runs = [self.model.runs[i] for i in ids if i in self.model.runs]
        out = [("compare", "Compare selected runs", "compare")] if len(runs) >= 2 else []
        chosen = set(ids)  # (a list would make this O(runs × selected): 10^8 for select-all)
        if any(r.parent_id in chosen for r in self.model.runs.values()):
            out.append(("compare_children", "Compare this sweep's runs", "compare"))
        parents = [i for i in ids if i in self.model.runs and self.model.has_listed_children(i)]
        if any(p in self.model.collapsed for p in parents):
            out.append(("expand", "Show child runs", "chevron-down"))
        if any(p not in self.model.collapsed for p in parents):
            out.append(("collapse", "Hide child runs", "chevron-right"))
        if len(runs) == 1:
            out += [("rename", "Rename…", "rename"), ("copy_id", "Copy run id", "copy")]
        out += [("tag", "Add tag…", "tag"), ("show_only", "Show only these in charts", "eye"),
                ("check", "Show in charts", "chart")]
        if any(r.deleted for r in runs):
            out.append(("restore", "Restore", "restore"))
        if any(not r.deleted for r in runs):
            out.append(("delete", "Delete", "delete"))
        if self.model.read_only:
            out = [a for a in out if a[0] not in EDIT_ACTIONS]
        return out

    def _context_menu(self, pos) -> None:  # type: ignore[no-untyped-def]
        ids = self.selected_ids()
        if not ids:
            return
        menu = QMenu(self)
        for name, label, ic in self.actions_for(ids):
            menu.addAction(icon(ic), label, lambda n=name: self._do(n, self.selected_ids()))
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def _do(self, action: str, ids: list[str]) -> None:
        """Folding is this view's own business; every other action goes to the controller."""
        if action in ("expand", "collapse"):
            self.set_children_shown(ids, action == "expand")
        else:
            self.sig_action.emit(action, ids)

    def set_children_shown(self, ids: Sequence[str], shown: bool) -> None:
        """Unfold (or fold) the child runs of these parent runs; the selection stays."""
        for rid in ids:
            if self.model.has_listed_children(rid):
                self.model.set_collapsed(rid, not shown)

    def _add_shortcuts(self) -> None:
        for keys, name in ((QKeySequence.StandardKey.Delete, "delete"), ("F2", "rename"),
                           ("Ctrl+Shift+C", "copy_id"), ("Space", "toggle_check"),
                           ("Alt+Right", "expand"), ("Alt+Left", "collapse")):
            act = QAction(self.table)
            act.setShortcut(QKeySequence(keys))
            act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            act.triggered.connect(lambda _=False, n=name: self._do(n, self.selected_ids()))
            self.table.addAction(act)

    def focus_filter(self) -> None:
        """Ctrl+L (the window's Edit menu owns the shortcut: two window-wide actions on one
        key would make Qt fire neither)."""
        self.filter.setFocus()
        self.filter.selectAll()

    def _tick_pulse(self) -> None:
        running = [i for i, r in enumerate(self.model.rows)
                   if self.model.runs[r].status is RunStatus.RUNNING]
        if not running or not self.isVisible():
            return
        self._phase = (self._phase + 1) % 16
        self.model.pulse = abs(8 - self._phase) / 8
        col = next((i + 1 for i, c in enumerate(self.model.columns) if c.kind == "status"), None)
        if col is None:
            return
        for row in running:
            idx = self.model.index(row, col)
            self.model.dataChanged.emit(idx, idx, [Qt.ItemDataRole.ForegroundRole])
