"""The "Views" menu: save what the window shows under a name, and reopen it later.

A view holds the experiment, filter, checked / selected / compared runs, the runs table's
columns and sort, and the chart settings (see :mod:`app.core.saved_views`). Capturing and
restoring go through the window's public parts only; the window itself just adds this menu.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.chart_settings import ChartSettings
from app.core.columns import Column
from app.core.commands import plural
from app.core.saved_views import SavedView, ViewLibrary, now_ms, store_key
from app.qt.theme import icon

if TYPE_CHECKING:
    from app.qt.main_window import MainWindow

#: The first views of a store get Ctrl+Alt+1 … Ctrl+Alt+9.
NUMBERED = 9
STATUS_MS = 8000


# --- capture and restore ------------------------------------------------------------------------

def capture_view(window: MainWindow, name: str) -> SavedView:
    """What ``window`` shows now, as a view named ``name``. Needs an open store."""
    store = window.session.store
    if store is None:
        raise RuntimeError("no store is open")
    model, rv = window.runs_model, window.runs_view
    item = window.experiments.currentItem()
    order = {rid: i for i, rid in enumerate(model.rows)}
    checked = sorted(model.checked, key=lambda r: (order.get(r, len(order)), r))
    header = rv.table.horizontalHeader()
    section = header.sortIndicatorSection() if header.isSortIndicatorShown() else -1
    sort = None
    if 1 <= section <= len(model.columns):
        sort = (model.columns[section - 1].id, header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)
    compare = tuple(window.compare.ids) if len(window.compare.ids) >= 2 else ()
    return SavedView(name=name, store_path=str(store.path),
                     experiment=item.data(Qt.ItemDataRole.UserRole) if item is not None else None,
                     filter=rv.filter.text().strip(), checked=tuple(checked), selected=tuple(rv.selected_ids()),
                     columns=tuple(c.id for c in model.columns), chart_settings=window.charts.settings().to_dict(),
                     compare=compare, created_ms=now_ms(), sort=sort)


def missing_runs(window: MainWindow, view: SavedView) -> set[str]:
    """Runs the view refers to that are gone from the store (or deleted)."""
    runs = window.runs_model.runs
    return {rid for rid in view.run_ids() if rid not in runs or runs[rid].deleted}


def restore_view(window: MainWindow, view: SavedView) -> None:
    """Show ``view`` in ``window`` (whose store's runs are loaded). Runs that no longer exist are
    skipped and counted in the status bar. The filter is applied on the worker; the selection
    and the compare set follow once its result is in."""
    session = window.session
    if session.store is None:
        window.statusBar().showMessage("Open a store to restore a view", STATUS_MS)
        return
    if store_key(session.store.path) != view.store_path:
        window.statusBar().showMessage(f"View “{view.name}” belongs to another store ({view.store_path})", STATUS_MS)
        return
    model, rv = window.runs_model, window.runs_view
    runs = model.runs
    notes: list[str] = []

    # Experiment (the list's selection drives the table's scope).
    exps = window.experiments
    target = next((exps.item(i) for i in range(exps.count())
                   if exps.item(i).data(Qt.ItemDataRole.UserRole) == view.experiment), None)
    if target is None:
        notes.append(f"experiment “{view.experiment}” no longer exists")
        target = exps.item(0)
    if target is not None and exps.currentItem() is not target:
        exps.setCurrentItem(target)

    # Columns and sort.
    columns: list[Column] = []
    for cid in view.columns:
        try:
            columns.append(Column.from_id(cid))
        except ValueError:
            continue
    if columns:
        model.set_columns(columns)
        rv.sig_columns_changed.emit([c.id for c in columns])  # remembered like a user's choice
    ids = [c.id for c in model.columns]
    if view.sort is not None and view.sort[0] in ids:
        order = Qt.SortOrder.DescendingOrder if view.sort[1] else Qt.SortOrder.AscendingOrder
        rv.table.sortByColumn(ids.index(view.sort[0]) + 1, order)
    else:
        rv.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # newest first

    # Charts: settings, then the checked runs.
    if view.chart_settings:
        window.charts.set_settings(ChartSettings.from_dict(view.chart_settings))
    model.set_checked(rid for rid in view.checked if rid in runs and not runs[rid].deleted)

    # Filter (applied on the worker, like the filter bar's own).
    rv.filter.setText(view.filter)
    rv.show_filter_error(None)
    window.controller.set_filter(view.filter)

    gone = missing_runs(window, view)
    if gone:
        n = len(gone)
        notes.append(f"{plural(n, 'run')} of this view no longer exist{'s' if n == 1 else ''}")

    def finish(_r: object = None) -> None:
        # The worker is serial: this runs after the filter's result reached the table.
        selected = [rid for rid in view.selected if model.row_of(rid) >= 0]
        if selected:
            rv.select_run(selected[0])
            sm = rv.table.selectionModel()
            for rid in selected[1:]:
                sm.select(model.index(model.row_of(rid), 0),
                          QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
        else:
            rv.table.clearSelection()
        now = model.runs  # fresh snapshots (a live refresh may have landed meanwhile)
        compared = [now[rid] for rid in view.compare if rid in now and not now[rid].deleted]
        if len(compared) >= 2:
            window.show_compare(compared)
        else:
            window.tabs.setCurrentWidget(window.charts)  # the view is its charts
        window.statusBar().showMessage(" · ".join([f"Restored view “{view.name}”", *notes]), STATUS_MS)

    session.call(lambda _store: None, finish, lambda _e: finish())


# --- the menu -----------------------------------------------------------------------------------

class ViewsMenu(QMenu):
    """Save current view…, one entry per saved view of the open store, Manage…"""

    def __init__(self, window: MainWindow, library: ViewLibrary | None = None) -> None:
        super().__init__("Vie&ws", window)
        self.setObjectName("ViewsMenu")
        self.w = window
        self.library = library if library is not None else ViewLibrary()
        self.last_name: str | None = None  # the view saved or restored last (default name)
        self.save_action = QAction(icon("plus"), "Save current view…", window)
        self.save_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.save_action.setStatusTip("Save the experiment, filter, runs, columns and chart settings under a name")
        self.save_action.triggered.connect(lambda: self.save_current())
        self.manage_action = QAction(icon("settings"), "Manage views…", window)
        self.manage_action.triggered.connect(lambda: self.manage())
        self.view_actions: list[QAction] = []
        self._loaded = False  # the open store's runs are in the table
        self._waiting: SavedView | None = None  # asked for before they were
        self.aboutToShow.connect(self.rebuild)
        window.session.sig_opened.connect(self._on_opened)
        # Connected after the controller: runs once it has applied the refresh.
        window.session.sig_refreshed.connect(self._on_refreshed)
        self.rebuild()

    def _on_opened(self, _store: object) -> None:
        self._loaded, self._waiting = False, None
        self.rebuild()

    def _on_refreshed(self, _r: object) -> None:
        if not self._loaded:
            self._loaded = True
            view, self._waiting = self._waiting, None
            if view is not None:
                restore_view(self.w, view)

    def _store_path(self) -> str | None:
        store = self.w.session.store
        return None if store is None else str(store.path)

    def views(self) -> list[SavedView]:
        path = self._store_path()
        return [] if path is None else self.library.list(path)

    def rebuild(self) -> None:
        """Refill the menu from the library (it may have changed in another window)."""
        self.clear()
        self.view_actions = []
        has_store = self._store_path() is not None
        self.addAction(self.save_action)
        self.save_action.setEnabled(has_store)
        self.addSeparator()
        views = self.views()
        if self.library.problem:
            self.addAction(icon("alert"), self.library.problem).setEnabled(False)
        for i, v in enumerate(views):
            act = QAction(v.name.replace("&", "&&"), self)
            act.setToolTip(describe(v))
            act.setStatusTip(describe(v))
            if i < NUMBERED:
                act.setShortcut(QKeySequence(f"Ctrl+Alt+{i + 1}"))
            act.triggered.connect(lambda _=False, n=v.name: self.restore(n))
            self.addAction(act)
            self.view_actions.append(act)
        if not views:
            empty = self.addAction("No saved views for this store" if has_store else "Open a store to use views")
            empty.setEnabled(False)
        self.addSeparator()
        self.addAction(self.manage_action)
        self.manage_action.setEnabled(has_store and bool(views))
        self.setToolTipsVisible(True)

    # --- actions ------------------------------------------------------------------------------
    def save_current(self, name: str | None = None) -> SavedView | None:
        """Save what the window shows; asks for a name when none is given."""
        path = self._store_path()
        if path is None:
            self.w.statusBar().showMessage("Open a store before saving a view", STATUS_MS)
            return None
        if name is None:
            existing = {v.name for v in self.library.list(path)}
            default = self.last_name or _fresh_name(existing)
            text, ok = QInputDialog.getText(self.w, "Save view", "Name of the view:", QLineEdit.EchoMode.Normal,
                                            default)
            name = text.strip()
            if not ok or not name:
                return None
            if name in existing and QMessageBox.question(
                    self.w, "Replace view", f"A view named “{name}” exists for this store. Replace it?",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel) != QMessageBox.StandardButton.Yes:
                return None
        try:
            view = self.library.save(capture_view(self.w, name))
        except (OSError, ValueError) as e:
            self.w.show_error(f"Could not save the view: {getattr(e, 'strerror', None) or e}")
            return None
        self.last_name = view.name
        self.rebuild()
        self.w.statusBar().showMessage(f"Saved view “{view.name}” ({describe(view)})", STATUS_MS)
        return view

    def restore(self, name: str) -> SavedView | None:
        path = self._store_path()
        view = None if path is None else self.library.get(name, path)
        if view is None:
            self.w.statusBar().showMessage(f"View “{name}” no longer exists", STATUS_MS)
            self.rebuild()
            return None
        self.last_name = view.name
        if not self._loaded:  # the store is still being read: restore once its runs are in
            self._waiting = view
            self.w.statusBar().showMessage(f"View “{view.name}” opens once the store is loaded…")
            return view
        restore_view(self.w, view)
        return view

    def manage(self) -> ManageViewsDialog | None:
        path = self._store_path()
        if path is None:
            return None
        dlg = ManageViewsDialog(self.library, path, self.w)
        dlg.sig_open_requested.connect(self.restore)
        dlg.finished.connect(lambda _r: self.rebuild())
        dlg.open()
        return dlg


def _fresh_name(taken: set[str]) -> str:
    i = len(taken) + 1
    while f"View {i}" in taken:
        i += 1
    return f"View {i}"


def describe(v: SavedView) -> str:
    """A one-line summary: "3 runs in charts · filter … · 2 compared"."""
    parts = [f"{plural(len(v.checked), 'run')} in charts"]
    if v.experiment:
        parts.insert(0, v.experiment)
    if v.filter:
        parts.append(f"filter {v.filter}")
    if v.compare:
        parts.append(f"{len(v.compare)} compared")
    return " · ".join(parts)


# --- Manage… ------------------------------------------------------------------------------------

class ManageViewsDialog(QDialog):
    """The store's views: open, rename (F2 or the button) and delete (Del or the button)."""

    sig_open_requested = Signal(str)  # view name

    def __init__(self, library: ViewLibrary, store_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Saved views")
        self.setObjectName("ManageViews")
        self.library, self.store_path = library, store_path
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Name", "Shows", "Saved"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemChanged.connect(self._on_renamed)
        self.tree.itemDoubleClicked.connect(lambda *_: self.open_selected())
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.error = QLabel(objectName="FilterError", wordWrap=True)
        self.error.setStyleSheet("color: #e5484d;")
        self.error.hide()
        self.open_button = QPushButton(icon("eye"), "Open")
        self.rename_button = QPushButton(icon("rename"), "Rename")
        self.delete_button = QPushButton(icon("delete"), "Delete")
        self.open_button.clicked.connect(self.open_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for b in (self.open_button, self.rename_button, self.delete_button):
            buttons.addButton(b, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        delete = QAction(self.tree, shortcut=QKeySequence(QKeySequence.StandardKey.Delete),
                         shortcutContext=Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(lambda: self.delete_selected())
        self.tree.addAction(delete)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Views of this store. F2 renames, Delete removes, double-click opens.",
                             objectName="PanelTitle", wordWrap=True))
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(560, 320)
        self.reload()

    def reload(self, current: str | None = None) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        for v in self.library.list(self.store_path):
            saved = time.strftime("%Y-%m-%d %H:%M", time.localtime(v.created_ms / 1000)) if v.created_ms else ""
            item = QTreeWidgetItem([v.name, describe(v), saved])
            item.setData(0, Qt.ItemDataRole.UserRole, v.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            item.setToolTip(1, describe(v))
            self.tree.addTopLevelItem(item)
            if v.name == current:
                self.tree.setCurrentItem(item)
        if self.tree.currentItem() is None and self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self.tree.blockSignals(False)
        self._update_buttons()

    def names(self) -> list[str]:
        return [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]

    def _current_name(self) -> str | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, Qt.ItemDataRole.UserRole)

    def _update_buttons(self) -> None:
        on = self.tree.currentItem() is not None
        for b in (self.open_button, self.rename_button, self.delete_button):
            b.setEnabled(on)

    def _show_error(self, text: str | None) -> None:
        self.error.setText(text or "")
        self.error.setVisible(bool(text))

    def open_selected(self) -> None:
        name = self._current_name()
        if name is not None:
            self.accept()
            self.sig_open_requested.emit(name)

    def rename_selected(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self.tree.editItem(item, 0)

    def rename(self, old: str, new: str) -> bool:
        try:
            self.library.rename(old, new, self.store_path)
        except (KeyError, ValueError, OSError) as e:
            msg = f"view “{old}” no longer exists" if isinstance(e, KeyError) else (getattr(e, "strerror", None) or e)
            self._show_error(f"Could not rename: {msg}")
            self.reload(old)
            return False
        self._show_error(None)
        self.reload(new.strip())
        return True

    def _on_renamed(self, item: QTreeWidgetItem, column: int) -> None:
        if column == 0:
            old = item.data(0, Qt.ItemDataRole.UserRole)
            if item.text(0).strip() != old:
                self.rename(old, item.text(0))

    def delete_selected(self, confirm: bool = True) -> bool:
        name = self._current_name()
        if name is None:
            return False
        if confirm and QMessageBox.question(
                self, "Delete view", f"Delete the view “{name}”? The runs themselves are not touched.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel) != QMessageBox.StandardButton.Yes:
            return False
        try:
            self.library.delete(name, self.store_path)
        except OSError as e:
            self._show_error(f"Could not delete: {e.strerror or e}")
            return False
        self._show_error(None)
        self.reload()
        return True
