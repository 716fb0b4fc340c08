"""File → Export: the runs table, and the full-resolution series of the runs in the charts, as CSV.

``export_runs_csv(window, path=None)`` and ``export_series_csv(window, path=None)`` are what the
menu actions call; ``path=None`` asks with a file dialog. The series are read on the session's
worker (the status bar's busy bar shows while it works, with "n of N series" as it goes).
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from app.core.commands import plural
from app.core.export import runs_table_csv, series_csv
from app.qt.theme import icon

if TYPE_CHECKING:
    from app.qt.main_window import MainWindow

STATUS_MS = 10_000
_DIR_KEY = "export/dir"


def add_export_actions(window: MainWindow, menu: QMenu) -> tuple[QAction, QAction]:
    """Add the two export actions to ``menu`` (File); they are enabled while a store is open."""
    runs = QAction(icon("export"), "Export runs table as CSV…", window)
    runs.setShortcut(QKeySequence("Ctrl+E"))
    runs.setStatusTip("The runs listed in the table, with its columns, at full precision")
    runs.triggered.connect(lambda: export_runs_csv(window))
    series = QAction(icon("export"), "Export series of runs in charts as CSV…", window)
    series.setShortcut(QKeySequence("Ctrl+Shift+E"))
    series.setStatusTip("Every metric point of the checked runs (full resolution, not the drawn curve)")
    series.triggered.connect(lambda: export_series_csv(window))
    menu.addActions([runs, series])

    def update() -> None:
        on = window.session.store is not None
        runs.setEnabled(on)
        series.setEnabled(on and bool(window.runs_model.checked))

    menu.aboutToShow.connect(update)
    return runs, series


def _ask_path(window: MainWindow, title: str, suggested: str) -> str | None:
    start = Path(str(window.settings.value(_DIR_KEY, str(Path.home())))) / suggested
    path, _ = QFileDialog.getSaveFileName(window, title, str(start), "CSV files (*.csv);;All files (*)")
    if not path:
        return None
    if not Path(path).suffix:
        path += ".csv"
    window.settings.setValue(_DIR_KEY, str(Path(path).parent))
    return path


def _why(e: BaseException) -> str:
    return str(getattr(e, "strerror", None) or getattr(e, "message", None) or e)


def export_runs_csv(window: MainWindow, path: str | os.PathLike[str] | None = None) -> int | None:
    """Write the runs table as listed (scope, filter, sort) with its columns; returns the row count."""
    store = window.session.store
    if store is None:
        window.statusBar().showMessage("Open a store first", STATUS_MS)
        return None
    if path is None:
        path = _ask_path(window, "Export runs table as CSV", f"{store.path.name}-runs.csv")
        if path is None:
            return None
    try:
        n = runs_table_csv(window.runs_model.listed_runs(), window.runs_model.columns, path)
    except OSError as e:
        window.show_error(f"Could not export the runs table to {path}: {_why(e)}")
        return None
    window.statusBar().showMessage(f"Exported {plural(n, 'run')} to {path}", STATUS_MS)
    return n


class _Progress(QObject):
    """Carries the worker's progress to the status bar (queued onto the GUI thread)."""

    sig = Signal(int, int)

    def __init__(self, window: MainWindow, what: str) -> None:
        super().__init__(window)
        self.w, self.what = window, what
        self.sig.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def _show(self, done: int, total: int) -> None:
        self.w.statusBar().showMessage(f"Exporting {self.what}… {done} of {plural(total, 'series')}")


def export_series_csv(window: MainWindow, path: str | os.PathLike[str] | None = None) -> Future[Any] | None:
    """Write every point of every metric of the runs in the charts (checked and listed).

    Runs on the session's worker; returns its future (None when nothing was started). The
    status bar says "Exported N points to PATH" when done; errors go to the message bar.
    """
    store = window.session.store
    if store is None:
        window.statusBar().showMessage("Open a store first", STATUS_MS)
        return None
    runs = window.runs_model.checked_runs()
    if not runs:
        window.statusBar().showMessage("No runs in the charts: check the runs to export first", STATUS_MS)
        return None
    if path is None:
        path = _ask_path(window, "Export series of runs in charts as CSV", f"{store.path.name}-series.csv")
        if path is None:
            return None
    ids = [r.id for r in runs]
    names = {r.id: r.name for r in runs}
    what = f"the series of {plural(len(ids), 'run')}"
    progress = _Progress(window, what)
    window.statusBar().showMessage(f"Exporting {what}…")

    def done(points: int) -> None:
        progress.deleteLater()
        window.statusBar().showMessage(f"Exported {points:,} points to {path}", STATUS_MS)

    def failed(e: BaseException) -> None:
        progress.deleteLater()
        window.statusBar().clearMessage()
        window.show_error(f"Could not export the series to {path}: {_why(e)}")

    return window.session.worker.submit(lambda: series_csv(store, ids, None, path, names, progress.sig.emit),
                                        done, failed)
