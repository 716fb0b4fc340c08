"""Wires a :class:`StoreSession` to the views: refreshes in, user intentions out.

Kept apart from the main window so the window stays composition only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QInputDialog

from app.core.columns import Column, default_columns
from app.core.commands import EDIT_ACTIONS, Command, DeleteRuns, EditNote, EditTags, RenameRun, RestoreRuns, plural
from app.core.live import Refresh
from tracker_sdk.entities import RunInfo

if TYPE_CHECKING:
    from app.qt.main_window import MainWindow

#: Runs checked for the charts when a store opens (the newest ones).
DEFAULT_CHECKED = 10


class _UndoableEdit(QUndoCommand):
    def __init__(self, controller: Controller, command: Command) -> None:
        super().__init__(command.label)
        self.c = controller
        self.command = command

    def redo(self) -> None:
        self.c.session.edit(self.command.do)

    def undo(self) -> None:
        self.c.session.edit(self.command.undo)


class Controller(QObject):
    sig_settled = Signal()
    """Everything requested so far is loaded and handed to the views (used by --screenshot)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.session = window.session
        self.model = window.runs_model
        self.undo = QUndoStack(self)
        self._columns_from_settings: list[str] | None = None
        self._first_load = True
        self._filter = ""
        self._pending_series: set[tuple[str, str]] = set()
        self._pushed: dict[tuple[str, str], int] = {}  # cache generation last given to the chart
        s = self.session
        s.sig_opened.connect(self._on_opened)
        s.sig_refreshed.connect(self._on_refreshed)
        s.sig_series_loaded.connect(self._on_series_loaded)
        s.sig_error.connect(self.w.show_error)
        # Chart updates are coalesced to once per event-loop turn: a refresh can trigger several,
        # and the table should paint before the chart grid is (re)built.
        self._charts_timer = QTimer(self, singleShot=True, interval=0)
        self._charts_timer.timeout.connect(self._update_charts_now)
        self.model.sig_checked_changed.connect(self._update_charts)
        self.model.sig_folding_changed.connect(self._save_folding)
        v = window.runs_view
        v.sig_filter_changed.connect(self.set_filter)
        v.sig_selection_changed.connect(self._on_selection)
        v.sig_action.connect(self.run_action)
        v.sig_columns_changed.connect(lambda ids: self.w.settings.setValue("runs/columns", ids))
        window.charts.sig_series_wanted.connect(self._want_series)
        window.charts.sig_run_clicked.connect(window.runs_view.select_run)
        window.detail.sig_tags_edited.connect(self._on_tags_edited)
        window.detail.sig_note_edited.connect(self._on_note_edited)
        window.detail.sig_run_activated.connect(window.runs_view.select_run)
        window.compare.sig_run_clicked.connect(window.runs_view.select_run)
        window.compare.sig_brushed.connect(lambda ids: self.model.set_scope(brush=ids))
        window.models.sig_run_activated.connect(self._open_run)
        window.models.sig_edit.connect(self.push)  # set/move aliases, stages, descriptions
        # Registry changes touch no run (and an MLflow registry is read from the source, not
        # mirrored): re-read it after every refresh while the Models page shows.
        s.sig_checked.connect(self._load_models)
        window.tabs.currentChanged.connect(lambda _i: self.update_sweep())
        window.tabs.currentChanged.connect(lambda _i: self._load_models())
        window.compare.tabs.currentChanged.connect(lambda _i: self.update_sweep())
        self._settle = QTimer(self, interval=100)
        self._settle.timeout.connect(self._check_settled)

    # --- loading ------------------------------------------------------------------------------
    def _on_opened(self, store) -> None:  # type: ignore[no-untyped-def]
        self._first_load = True
        self.undo.clear()
        self.model.read_only = store.read_only
        self.w.detail.tags.set_read_only(store.read_only)
        self.w.detail.note.set_read_only(store.read_only)
        self.w.models.set_read_only(store.read_only)
        saved = self.w.settings.value("runs/columns")
        self._columns_from_settings = list(saved) if isinstance(saved, list) and saved else None
        self.model.apply({}, reset=True)
        # Sweeps folded last time in this store stay folded (ids of runs gone are dropped
        # when the runs arrive).
        self.model.collapsed = set(_as_list(self.w.settings.value(_folded_key(store.path))))
        self.w.artifacts.set_run(store, None)
        self._settle.start()

    def _save_folding(self) -> None:
        store = self.session.store
        if store is not None:
            self.w.settings.setValue(_folded_key(store.path), sorted(self.model.collapsed))

    def _load_models(self) -> None:
        """Read the registry while the Models page is shown (MLflow's changes too: a
        registry write touches the database, which wakes a refresh)."""
        if self.w.tabs.currentWidget() is not self.w.models or self.session.store is None:
            return
        self.session.submit(lambda store: store.registered_models(), self._show_models)

    def _show_models(self, models) -> None:  # type: ignore[no-untyped-def]
        self.w.models.set_models(models, {r.id: r.name for r in self.model.runs.values()})

    def _open_run(self, run_id: str) -> None:
        """A model version's source run: selected in the table, shown in the Run tab."""
        if run_id not in self.model.runs:
            self.w.statusBar().showMessage("The run of that version is not in this store (deleted?)", 5000)
            return
        self.w.runs_view.select_run(run_id)
        self.w.tabs.setCurrentWidget(self.w.detail)

    def _on_refreshed(self, r: Refresh) -> None:
        first = self._first_load
        new = self.model.apply(r.runs, reset=r.reset)
        if first:
            self._first_load = False
            cols = None
            if self._columns_from_settings:
                try:
                    cols = [Column.from_id(c) for c in self._columns_from_settings]
                except ValueError:
                    cols = None
            self.model.set_columns(cols or default_columns(self.model.listed_runs()))
            # The newest runs, not a sweep's parent run: its trials are what one compares.
            leaves = [r for r in self.model.listed_ids if not self.model.has_listed_children(r)]
            self.model.set_checked(leaves[:DEFAULT_CHECKED])
            if self.model.rows:
                self.w.runs_view.select_run(self.model.rows[0])
        elif new:
            live_new = [rid for rid in new if not self.model.runs[rid].status.is_terminal]
            if live_new and len(self.model.checked) < 20:
                self.model.set_checked(self.model.checked | set(live_new))
        if r.experiments is not None:
            self.w.set_experiments(r.experiments)
        if self._filter and (r.runs or r.reset):
            self.set_filter(self._filter)
        if r.series:
            self._push_series(r.series)
        if r.runs or r.reset:
            self._update_charts()
            self._refresh_detail(set(r.runs))
            self.w.compare.update_runs(self.model.runs, {i: self.model.color(i) for i in self.w.compare.ids})
            self.update_sweep()
        if r.artifacts_changed:
            self.w.artifacts.refresh()
        self.w.set_live_status(r)

    def set_filter(self, text: str) -> None:
        self._filter = text
        if not text:
            self.model.set_scope(match=None)
            self.update_sweep()
            return

        def done(ids: list[str]) -> None:
            if self._filter == text:
                self.model.set_scope(match=set(ids))
                self.update_sweep()

        self.session.call(lambda st: [r.id for r in st.search_runs(filter=text, include_deleted=True)], done,
                          lambda e: self.w.runs_view.show_filter_error(str(getattr(e, "message", e)),
                                                                       getattr(e, "position", 0)))

    def set_experiment(self, name: str | None) -> None:
        self.model.set_scope(experiment=name, brush=None)
        self._update_charts()
        self.update_sweep()

    def update_sweep(self) -> None:
        """The sweep views follow the table's scope, but only while someone looks at them
        (in the Compare tab or in Compare's own window)."""
        c = self.w.compare
        if c.isVisible() and c.tabs.currentWidget() is c.sweep:
            c.set_sweep_runs(self.model.scoped_runs())

    # --- charts -------------------------------------------------------------------------------
    def _update_charts(self) -> None:
        self._charts_timer.start()

    def _update_charts_now(self) -> None:
        runs = self.model.checked_runs()
        self.w.charts.set_run_info({r.id: r for r in runs})
        self.w.charts.set_runs([(r.id, r.name, self.model.color(r.id), r.start_time) for r in runs])
        self.w.charts.set_keys(sorted({k for r in runs for k in r.metrics}))

    def _want_series(self, pairs: list) -> None:
        pairs = [tuple(p) for p in pairs]
        self._pending_series.update(pairs)
        self.session.want_series(pairs)
        self._push_series([p for p in pairs if self.session.arrays(*p) is not None])

    def _on_series_loaded(self, pairs: frozenset) -> None:
        self._push_series(pairs)

    def _push_series(self, pairs) -> None:  # type: ignore[no-untyped-def]
        for run_id, key in pairs:
            arrays = self.session.arrays(run_id, key)
            if arrays is not None:
                self._pending_series.discard((run_id, key))
                # Same generation as last pushed: the cache only appended since, so the
                # chart extends by the new points without comparing the old ones.
                generation = self.session.generation(run_id, key)
                appended = self._pushed.get((run_id, key)) == generation
                self._pushed[(run_id, key)] = generation
                self.w.charts.set_series(run_id, key, *arrays, appended=appended)

    # --- selection and detail -----------------------------------------------------------------
    def _on_selection(self, ids: list[str]) -> None:
        self._refresh_detail(None)

    def _refresh_detail(self, changed: set[str] | None) -> None:
        ids = self.w.runs_view.selected_ids()
        run = self.model.runs.get(ids[0]) if len(ids) == 1 else None
        if changed is not None and (run is None or run.id not in changed):
            return
        if run is None:
            self.w.detail.show_run(None)
            self.w.artifacts.set_run(self.session.store, None)
            return
        children = [r for r in self.model.runs.values() if r.parent_id == run.id]
        parent = self.model.runs.get(run.parent_id) if run.parent_id else None
        self.w.detail.show_run(run, children, parent)
        if changed is None:
            self.w.artifacts.set_run(self.session.store, run.id)

    # --- actions ------------------------------------------------------------------------------
    def push(self, command: Command) -> None:
        self.undo.push(_UndoableEdit(self, command))
        self.w.statusBar().showMessage(f"{command.label} — Ctrl+Z to undo", 5000)

    def run_action(self, name: str, ids: Sequence[str]) -> None:
        runs = [self.model.runs[i] for i in ids if i in self.model.runs]
        if not runs:
            return
        if name in EDIT_ACTIONS and self.model.read_only:
            store = self.session.store
            kind = store.source_kind if store is not None else "this"
            self.w.statusBar().showMessage(
                f"Read-only {kind} store: Runwatch never changes it. Import it into a Runwatch "
                "store to rename, tag or delete runs", 6000)
            return
        if name == "delete":
            live = [r.id for r in runs if not r.deleted]
            if live:
                self.push(DeleteRuns(f"Delete {plural(len(live), 'run')}", live))
        elif name == "restore":
            gone = [r.id for r in runs if r.deleted]
            if gone:
                self.push(RestoreRuns(f"Restore {plural(len(gone), 'run')}", gone))
        elif name == "rename" and len(runs) == 1:
            r = runs[0]
            text, ok = QInputDialog.getText(self.w, "Rename run", "New name:", text=r.name)
            if ok and text.strip() and text.strip() != r.name:
                self.push(RenameRun(f"Rename {r.name!r}", r.id, r.name, text.strip()))
        elif name == "tag":
            text, ok = QInputDialog.getText(self.w, "Add tag", "Tag as key=value:")
            if ok and "=" in text:
                k, v = (s.strip() for s in text.split("=", 1))
                for r in runs:
                    self.push(EditTags(f"Tag {r.name!r} {k}={v}", r.id, dict(r.tags), {**r.tags, k: v}))
        elif name == "copy_id":
            QGuiApplication.clipboard().setText("\n".join(r.id for r in runs))
            self.w.statusBar().showMessage("Run id copied", 3000)
        elif name in ("check", "show_only", "toggle_check"):
            chosen = {r.id for r in runs}
            if name == "show_only":
                self.model.set_checked(chosen)
            elif name == "check":
                self.model.set_checked(self.model.checked | chosen)
            else:
                self.model.set_checked(self.model.checked ^ chosen)
        elif name == "compare":
            self.w.show_compare(runs)
        elif name == "compare_children":
            chosen = set(ids)
            kids = [r for r in self.model.runs.values() if r.parent_id in chosen and not r.deleted]
            self.w.show_compare(sorted(kids, key=lambda r: r.start_time))

    def _on_tags_edited(self, run_id: str, new: dict, removed: list) -> None:
        r = self.model.runs.get(run_id)
        if r is not None:
            after = {k: v for k, v in {**r.tags, **new}.items() if k not in set(removed)}
            self.push(EditTags(f"Edit tags of {r.name!r}", run_id, dict(r.tags), after))

    def _on_note_edited(self, run_id: str, text: str) -> None:
        r = self.model.runs.get(run_id)
        if r is not None and text != r.note:
            self.push(EditNote(f"Edit note of {r.name!r}", run_id, r.note, text))

    # --- settled (for screenshots and tests) ---------------------------------------------------
    def _check_settled(self) -> None:
        s = self.session
        if self._first_load or s.worker.pending or s._busy or self._pending_series or self._charts_timer.isActive():
            return
        if getattr(self.w.charts, "busy", lambda: False)():
            return
        self._settle.stop()
        self.sig_settled.emit()

    def runs(self) -> list[RunInfo]:
        return list(self.model.runs.values())


def _folded_key(store_path: object) -> str:
    """Settings key of a store's folded sweeps (a path holds '/', which QSettings nests)."""
    return "runs/folded/" + hashlib.sha1(str(store_path).encode()).hexdigest()[:16]


def _as_list(value: object) -> list[str]:
    """A QSettings string list: it reads back a one-element list as a plain string."""
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value] if isinstance(value, list) else []
