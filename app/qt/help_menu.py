"""The Help menu: keyboard shortcuts (read off the window's own actions, so never stale),
the filter language with examples, and About (versions and where things are kept)."""

from __future__ import annotations

import html
import platform
from typing import TYPE_CHECKING

import pyqtgraph as pg
import PySide6
from PySide6.QtCore import QObject, Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

import tracker_sdk
from tracker_sdk.query import ATTRIBUTES

if TYPE_CHECKING:
    from app.qt.main_window import MainWindow

#: (filter, what it shows): each one is parsed by the tests, so the help cannot go stale.
FILTER_EXAMPLES = [
    ("metrics.`val/loss` < 0.3", "a metric's last value"),
    ("params.optimizer = 'adam'", "a parameter (numbers compare as numbers)"),
    ("params.lr IN ('0.01', '0.001')", "one of several values"),
    ("tags.stage != 'debug'", "a tag"),
    ("attributes.status = 'RUNNING'", "a run attribute: " + ", ".join(ATTRIBUTES)),
    ("attributes.name LIKE 'trial-%'", "LIKE is case-sensitive, ILIKE is not"),
    ("(params.lr > 0.01 OR tags.seed = '1') AND NOT attributes.status = 'FAILED'", "combine freely"),
]


def filter_help() -> str:
    rows = "".join(f"<tr><td><code>{html.escape(f)}</code></td><td>{html.escape(what)}</td></tr>"
                   for f, what in FILTER_EXAMPLES)
    return ("<h3>Filtering runs</h3><p>The filter bar (Ctrl+L) takes the language of "
            "<code>Store.search_runs(filter=...)</code>: MLflow's, plus <b>OR</b>, <b>NOT</b> and "
            f"parentheses.</p><table cellpadding='4'>{rows}</table><p>Keys with <code>/</code> or "
            "<code>-</code> go in backticks. A mistake is underlined where it is, with what was "
            "expected.</p>")

#: Shortcuts of the runs table that are not menu actions (they act on the selected runs).
TABLE_SHORTCUTS = [
    ("Space", "Show or hide the selected runs in the charts"),
    ("F2", "Rename the selected run"),
    ("Delete", "Delete the selected runs (Ctrl+Z undoes)"),
    ("Ctrl+Shift+C", "Copy the selected runs' ids"),
    ("Alt+Right / Alt+Left", "Show / hide a parent run's child runs"),
]
CHART_GESTURES = [
    ("Double-click", "Reset the zoom"),
    ("Ctrl+wheel", "Zoom the x axis"),
]
#: Where a widget-level shortcut works, named by the pane that holds its widget.
_PANES = {"ArtifactsView": "Artifacts", "CompareTableView": "Compare", "RunsView": "Runs table",
          "ChartsView": "Charts"}


def _pane_of(widget: QObject | None) -> str:
    while widget is not None:
        name = _PANES.get(type(widget).__name__)
        if name:
            return name
        widget = widget.parent()
    return "Here"


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(keys, what they do, where) for every named action of the window that has a shortcut,
    then the runs table's and the charts' own; each (keys, where) once, in menu order."""
    rows: list[tuple[str, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for act in window.findChildren(QAction):
        keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = act.text().replace("&", "").rstrip("…").strip()
        if not keys or not text:
            continue
        where = ("Everywhere" if act.shortcutContext() in (Qt.ShortcutContext.WindowShortcut,
                                                            Qt.ShortcutContext.ApplicationShortcut)
                 else _pane_of(act.parent()))
        if (keys, where) not in seen:
            seen.add((keys, where))
            rows.append((keys, text, where))
    rows.sort(key=lambda r: r[2] != "Everywhere")  # stable: menu order within each group
    return (rows + [(k, t, "Runs table") for k, t in TABLE_SHORTCUTS]
            + [(k, t, "Charts") for k, t in CHART_GESTURES])


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Does", "Where"])
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                item = QTableWidgetItem(value)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.table.setItem(i, j, item)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        _finish(self, self.table, (640, 600))


class FilterHelpDialog(QDialog):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Filter syntax")
        self.text = QLabel(filter_help(), self, wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        _finish(self, self.text, (640, 420))


def about_text(store: str | None, settings_file: str) -> str:
    rows = [
        ("Runwatch", tracker_sdk.__version__),
        ("Python", platform.python_version()),
        ("Qt / PySide6", f"{qVersion()} / {PySide6.__version__}"),
        ("pyqtgraph", pg.__version__),
        ("Store", store or "none open"),
        ("Settings", settings_file),
    ]
    cells = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return ("<h3>Runwatch</h3><p>A local, live experiment tracker.</p>"
            f"<table cellpadding='3'>{cells}</table>")


class AboutDialog(QDialog):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("About Runwatch")
        store = window.session.store.path if window.session.store is not None else None
        self.text = QLabel(about_text(str(store) if store else None, window.settings.fileName()), self,
                           textFormat=Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        _finish(self, self.text, (460, 260))


def _finish(dialog: QDialog, body: QWidget, size: tuple[int, int]) -> None:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    lay = QVBoxLayout(dialog)
    lay.addWidget(body, 1)
    lay.addWidget(buttons)
    dialog.resize(*size)


def build_help_menu(window: MainWindow) -> QMenu:
    menu = QMenu("&Help", window)
    shortcuts = menu.addAction("Keyboard shortcuts", lambda: ShortcutsDialog(window).exec())
    shortcuts.setShortcut(QKeySequence("Ctrl+/"))
    menu.addAction("Filter syntax", lambda: FilterHelpDialog(window).exec())
    menu.addSeparator()
    menu.addAction("About Runwatch", lambda: AboutDialog(window).exec())
    return menu
