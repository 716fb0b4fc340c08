"""The artifacts panel: a lazily listed tree of a run's files and a preview of the selected one.

All file system work (listing, classifying, reading, decoding, copying) runs in workers; the GUI
thread only builds items and widgets from the results. Each result carries the generation it
was asked in and is dropped when a newer request superseded it. Previews are coalesced: at most
one runs, and only the newest waiting request runs after it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QSize, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMenu,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.qt.artifact_tree import DIR_ROLE, LOADED_ROLE, PATH_ROLE, SIZE_ROLE, ArtifactTreeModel, icon_name_for
from app.qt.detail_common import MessageBar, copy_to_clipboard, retheme, set_icon
from app.qt.preview_loaders import Preview, PreviewError, load_preview
from app.qt.previews import PreviewPane
from app.qt.theme import theme_notifier
from app.qt.workers import Worker
from tracker_sdk.errors import ArtifactPathError, TrackerError

if TYPE_CHECKING:
    from tracker_sdk.reader import Store

def error_text(rel: str, e: BaseException) -> str:
    """A one-line, user-facing description of why ``rel`` could not be read."""
    name = rel or "the artifact folder"
    if isinstance(e, FileNotFoundError):
        return f"{name} no longer exists (moved or deleted). Press F5 to refresh the list."
    if isinstance(e, PermissionError):
        return f"Cannot read {name}: permission denied."
    if isinstance(e, (ArtifactPathError, PreviewError, TrackerError)):
        return str(e)
    if isinstance(e, OSError):
        return f"Cannot read {name}: {e.strerror or e}."
    return f"Cannot preview {name}: {type(e).__name__}: {e}"


class ArtifactsView(QWidget):
    """``set_run(store, run_id)`` lists the run's artifacts; ``refresh()`` re-lists in place."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store: Store | None = None
        self._run_id: str | None = None
        self._root: Path | None = None  # the run's artifact folder, once listed
        self._gen = 0  # bumped by set_run: older listings and previews are dropped
        self._preview_gen = 0
        self._preview_running = False
        self._preview_next: tuple[int, str] | None = None
        self._selected: str | None = None
        self._selected_size: int | None = None
        self._closed = False
        self._lister = Worker(self, threads=1, name="runwatch-artifacts")
        self._previewer = Worker(self, threads=1, name="runwatch-preview")
        self._copier = Worker(self, threads=1, name="runwatch-save")
        self._build_actions()
        self.model = ArtifactTreeModel(self)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.expanded.connect(self._on_expanded)
        self.tree.doubleClicked.connect(self._on_double_click)
        self.tree.selectionModel().currentChanged.connect(self._on_current)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(1, 80)
        copy = QShortcut(QKeySequence.StandardKey.Copy, self.tree)
        copy.setContext(Qt.ShortcutContext.WidgetShortcut)
        copy.activated.connect(self.copy_path)
        self.tree_empty = QLabel()
        self.tree_empty.setObjectName("EmptyState")
        self.tree_stack = QStackedWidget()
        self.tree_stack.addWidget(self.tree_empty)
        self.tree_stack.addWidget(self.tree)
        self.tree_message = MessageBar(self)
        toolbar = QToolBar()
        toolbar.setIconSize(QSize(18, 18))
        for action in (self.open_action, self.copy_action, self.save_action, self.refresh_action):
            toolbar.addAction(action)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(6, 4, 0, 6)
        left_lay.setSpacing(4)
        left_lay.addWidget(toolbar)
        left_lay.addWidget(self.tree_message)
        left_lay.addWidget(self.tree_stack, 1)
        self.preview = PreviewPane()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 700])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.splitter)
        self._show_tree_empty("Select a run to see its artifacts")
        self._update_actions()
        theme_notifier().themeChanged.connect(self._retheme)

    def _retheme(self, _name: str = "") -> None:
        retheme(self)
        self.model.retheme()
        self.preview.retheme()

    def _build_actions(self) -> None:
        def act(text: str, icon_name: str, slot: Callable[[], None], keys: Any = None, tip: str = "") -> QAction:
            action = QAction(text, self)
            set_icon(action, icon_name)
            if keys is not None:
                action.setShortcut(QKeySequence(keys))
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{tip or text} ({action.shortcut().toString()})" if keys else (tip or text))
            action.triggered.connect(slot)
            self.addAction(action)
            return action

        self.open_action = act("Open in system viewer", "open-folder", self.open_external,
                               tip="Open with the system's default application")
        self.copy_action = act("Copy path", "copy", self.copy_path, "Ctrl+Shift+C",
                               "Copy the file's full path")
        # Ctrl+S, not Ctrl+Shift+S: that one saves the window's view (Views menu).
        self.save_action = act("Save as…", "export", self.save_as, QKeySequence.StandardKey.Save,
                               "Save a copy of the file elsewhere")
        self.refresh_action = act("Refresh", "refresh", self.refresh, QKeySequence.StandardKey.Refresh,
                                  "Reload the list and the preview")
        if QKeySequence(QKeySequence.StandardKey.Refresh).toString() != "F5":
            self.refresh_action.setShortcuts([QKeySequence("F5"), QKeySequence(QKeySequence.StandardKey.Refresh)])

    # --------------------------------------------------------------------------- public
    def set_run(self, store: Store | None, run_id: str | None) -> None:
        """Show the artifacts of ``run_id``; the same run again is a ``refresh()``."""
        if store is not None and store is self._store and run_id and run_id == self._run_id:
            self.refresh()
            return
        self._gen += 1
        self._preview_gen += 1
        self._store, self._run_id, self._root = store, run_id, None
        self._selected = self._selected_size = None
        self._preview_next = None
        has_run = store is not None and bool(run_id)
        self.model.reset(loading=has_run)
        self.tree_message.clear()
        self.preview.show_empty()
        if has_run:
            self.tree_stack.setCurrentWidget(self.tree)
            self._request_listing([""])
        else:
            self._show_tree_empty("Select a run to see its artifacts")
        self._update_actions()

    def refresh(self) -> None:
        """Re-list every loaded folder, keeping expansion and selection; re-preview if changed."""
        if self._store is None or not self._run_id:
            return
        self._request_listing(self.model.loaded_folders(), refresh=True)

    def selected_path(self) -> str | None:
        """The relative path of the selected entry, or None."""
        return self._selected

    def absolute_path(self, rel: str | None = None) -> Path | None:
        rel = self._selected if rel is None else rel
        if self._root is None or rel is None:
            return None
        return self._root / rel if rel else self._root

    def select_path(self, rel: str) -> bool:
        """Select an already listed entry by relative path; False when it is not in the tree."""
        item = self.model.find(rel)
        if item is None:
            return False
        self.tree.setCurrentIndex(item.index())
        return True

    def is_loading(self) -> bool:
        return self._preview_running or self._lister.pending > 0

    def shutdown(self) -> None:
        """Stop the workers (call when the window closes)."""
        self._closed = True
        for worker in (self._lister, self._previewer, self._copier):
            worker.shutdown()

    # --------------------------------------------------------------------------- listing
    def _show_tree_empty(self, text: str) -> None:
        self.tree_empty.setText(text)
        self.tree_stack.setCurrentWidget(self.tree_empty)

    def _request_listing(self, paths: list[str], refresh: bool = False) -> None:
        store, run_id, gen = self._store, self._run_id, self._gen
        if store is None or run_id is None or self._closed:
            return

        def job() -> tuple[Path, dict[str, Any]]:
            root = store.artifact_path(run_id, "")
            out: dict[str, Any] = {}
            for path in paths:
                try:
                    infos = store.list_artifacts(run_id, path)
                    out[path] = [(i, icon_name_for(root / i.path, i)) for i in infos]
                except Exception as e:  # noqa: BLE001 - reported per folder in the panel
                    out[path] = e
            return root, out

        self._lister.submit(job, lambda r: self._on_listed(gen, r, refresh),
                            lambda e: self._on_list_failed(gen, e))

    def _on_list_failed(self, gen: int, e: BaseException) -> None:
        if gen == self._gen:
            self.model.removeRows(0, self.model.rowCount())
            self._show_tree_empty("The artifacts could not be listed")
            self.tree_message.show_message(error_text("", e), "error")

    def _on_listed(self, gen: int, result: tuple[Path, dict[str, Any]], refresh: bool) -> None:
        if gen != self._gen:
            return
        self._root, listings = result
        errors = []
        for path in sorted(listings, key=lambda p: (p.count("/") + bool(p), p)):  # parents first
            entries = listings[path]
            parent = self.model.find(path)
            if parent is None:
                continue  # its folder went away in this same refresh
            if isinstance(entries, BaseException):
                errors.append(error_text(path, entries))
                entries = []
            self.model.merge(parent, entries)
        if errors:
            self.tree_message.show_message(" ".join(errors), "error")
        elif refresh:
            self.tree_message.clear()
        if self.model.rowCount() == 0:
            self._show_tree_empty("This run has no artifacts yet")
        else:
            self.tree_stack.setCurrentWidget(self.tree)
        if refresh:
            self._after_refresh()
        self._update_actions()

    def _on_expanded(self, index: QModelIndex) -> None:
        item = self.model.itemFromIndex(index.siblingAtColumn(0))
        if item is None or not item.data(DIR_ROLE) or item.data(LOADED_ROLE):
            return
        item.setData(True, LOADED_ROLE)
        self._request_listing([item.data(PATH_ROLE)])

    def _after_refresh(self) -> None:
        if self._selected is None:
            return
        item = self.model.find(self._selected)
        if item is None:
            gone = self._selected
            self._selected = None
            self.preview.show_empty(f"{gone} was removed", title=gone.rsplit("/", 1)[-1])
        elif item.data(DIR_ROLE) or item.data(SIZE_ROLE) != self._selected_size:
            self._request_preview(self._selected)  # changed on disk (or a folder: recount)

    # --------------------------------------------------------------------------- preview
    def _on_current(self, current: QModelIndex, _previous: QModelIndex = QModelIndex()) -> None:  # noqa: B008
        item = self.model.itemFromIndex(current.siblingAtColumn(0)) if current.isValid() else None
        path = item.data(PATH_ROLE) if item is not None else None
        if path is not None:
            self._request_preview(path)
        self._update_actions()

    def _request_preview(self, rel: str) -> None:
        item = self.model.find(rel)
        self._selected = rel
        self._selected_size = item.data(SIZE_ROLE) if item is not None else None
        self._preview_gen += 1
        self.preview.set_busy(True)
        if self._preview_running:
            self._preview_next = (self._preview_gen, rel)
        else:
            self._start_preview(self._preview_gen, rel)

    def _start_preview(self, gen: int, rel: str) -> None:
        store, run_id = self._store, self._run_id
        if store is None or run_id is None or self._closed:
            self.preview.set_busy(False)
            return
        self._preview_running = True

        def job() -> Preview:
            root = store.artifact_path(run_id, "")
            return load_preview(store.artifact_path(run_id, rel), rel, root=root)

        self._previewer.submit(job, lambda p: self._preview_done(gen, rel, p, None),
                               lambda e: self._preview_done(gen, rel, None, e))

    def _preview_done(self, gen: int, rel: str, p: Preview | None, error: BaseException | None) -> None:
        self._preview_running = False
        if gen == self._preview_gen:
            if p is not None:
                self.preview.show_preview(p)
            else:
                self.preview.show_error(error_text(rel, error or RuntimeError("unknown error")),
                                        title=rel.rsplit("/", 1)[-1])
        nxt, self._preview_next = self._preview_next, None
        if nxt is not None and nxt[0] == self._preview_gen:
            self._start_preview(*nxt)

    # --------------------------------------------------------------------------- actions
    def _update_actions(self) -> None:
        has = self._selected is not None and self._root is not None
        for action in (self.open_action, self.copy_action, self.save_action):
            action.setEnabled(has)
        self.refresh_action.setEnabled(self._store is not None and bool(self._run_id))

    def open_external(self) -> None:
        path = self.absolute_path()
        if path is not None and not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.preview.message.show_message(f"No application could open {path.name}.", "warning")

    def copy_path(self) -> None:
        path = self.absolute_path()
        if path is not None:
            copy_to_clipboard(str(path))

    def ask_save_path(self, source: Path, is_dir: bool) -> str:
        """Ask where to save (a dialog); tests replace this."""
        if is_dir:
            return QFileDialog.getExistingDirectory(self, f"Copy folder {source.name} into")
        return QFileDialog.getSaveFileName(self, "Save artifact as", str(Path.home() / source.name))[0]

    def save_as(self) -> None:
        source = self.absolute_path()
        item = self.model.find(self._selected) if self._selected else None
        if source is None or item is None or self._closed:
            return
        is_dir = bool(item.data(DIR_ROLE))
        target = self.ask_save_path(source, is_dir)
        if not target:
            return
        dest = Path(target) / source.name if is_dir else Path(target)

        def job() -> Path:
            if is_dir:
                shutil.copytree(source, dest, symlinks=True)
            else:
                shutil.copy2(source, dest)
            return dest

        self.preview.set_busy(True)
        self._copier.submit(job, self._saved, lambda e: self._save_failed(dest, e))

    def _saved(self, dest: Path) -> None:
        self.preview.set_busy(self._preview_running)
        self.preview.message.show_message(f"Saved a copy to {dest}", "info")

    def _save_failed(self, dest: Path, e: BaseException) -> None:
        self.preview.set_busy(self._preview_running)
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        self.preview.message.show_message(f"Could not save to {dest}: {reason}", "error")

    def _on_double_click(self, index: QModelIndex) -> None:
        item = self.model.itemFromIndex(index.siblingAtColumn(0))
        if item is not None and item.data(PATH_ROLE) and not item.data(DIR_ROLE):
            self.open_external()

    def _context_menu(self, pos: Any) -> None:
        if not self.tree.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        for action in (self.open_action, self.copy_action, self.save_action, None, self.refresh_action):
            menu.addSeparator() if action is None else menu.addAction(action)
        menu.exec(self.tree.viewport().mapToGlobal(pos))
