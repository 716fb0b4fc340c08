"""Small pieces shared by the run detail and artifacts panels.

Formatting helpers (pure functions), an in-panel message bar, an eliding label, and a
filterable, sortable read-only table. None of this touches the store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QFontDatabase,
    QGuiApplication,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.formatting import human_duration, human_size  # noqa: F401 - re-exported
from app.qt.theme import icon, set_style_property

#: Role holding the value a column sorts by (numbers as floats, text as lowercase str).
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


# ------------------------------------------------------------------------------ formatting
def fmt_number(value: float | int | None) -> str:
    """Up to 6 significant digits; NaN as ``nan``, infinities as ``inf``/``-inf``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**15 else format(value, ".6g")
    v = float(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return format(v, ".6g")


def local_time(ms: int | None) -> str:
    """Epoch milliseconds as local ``YYYY-MM-DD HH:MM:SS``; empty for None."""
    if ms is None:
        return ""
    try:
        return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return str(ms)


def sort_key(value: Any) -> Any:
    """A sort value that compares well in Qt: floats for numbers, lowercase text otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
        return -math.inf if math.isnan(v) else v
    return str(value).casefold()


def monospace_font():  # type: ignore[no-untyped-def]
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


def copy_to_clipboard(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


# ------------------------------------------------------------------------------ icons
_ICON_PROPERTY = "runwatchIcon"


def set_icon(target: QObject, name: str) -> None:
    """Give a button or action the themed icon ``name`` and remember it for ``retheme``."""
    target.setProperty(_ICON_PROPERTY, name)
    target.setIcon(icon(name))  # type: ignore[attr-defined]


def retheme(root: QObject) -> None:
    """Re-colour every icon set with ``set_icon`` under ``root`` and every MessageBar's icon."""
    for obj in [root, *root.findChildren(QObject)]:
        name = obj.property(_ICON_PROPERTY)
        if name:
            obj.setIcon(icon(str(name)))  # type: ignore[attr-defined]
        if isinstance(obj, MessageBar):
            obj.retheme()


# ------------------------------------------------------------------------------ widgets
class MessageBar(QFrame):
    """``QFrame#MessageBar`` with ``level`` = info | warning | error: an in-panel message."""

    _ICONS = {"info": "info", "warning": "alert", "error": "alert"}
    _COLORS = {"info": "accent", "warning": "warning", "error": "error"}

    def __init__(self, parent: QWidget | None = None, closable: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("MessageBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        lay.setSpacing(8)
        self._icon = QLabel()
        self._icon.setFixedSize(16, 16)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.label, 1)
        self._close = QToolButton()
        set_icon(self._close, "x")
        self._close.setAutoRaise(True)
        self._close.setToolTip("Dismiss")
        self._close.clicked.connect(self.clear)
        self._close.setVisible(closable)
        lay.addWidget(self._close, 0, Qt.AlignmentFlag.AlignTop)
        set_style_property(self, "level", "info")
        self.hide()

    def show_message(self, text: str, level: str = "error") -> None:
        set_style_property(self, "level", level)
        self.retheme()
        self.label.setText(text)
        self.show()

    def retheme(self) -> None:
        level = self.level() or "info"
        self._icon.setPixmap(icon(self._ICONS.get(level, "info"),
                                  color=self._COLORS.get(level, "accent")).pixmap(16, 16))

    def clear(self) -> None:
        self.label.clear()
        self.hide()

    def text(self) -> str:
        """The message shown, or "" when the bar is hidden."""
        return "" if self.isHidden() else self.label.text()

    def level(self) -> str:
        return str(self.property("level") or "")


class ElidedLabel(QLabel):
    """One line of text elided in the middle to the label's width; the full text as tooltip.

    The context menu copies the full text, not what is shown.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle, max_hint: int = 400) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self._max_hint = max_hint
        self.setMinimumWidth(40)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QAction("Copy full text", self)
        copy.triggered.connect(lambda: copy_to_clipboard(self._full))
        self.addAction(copy)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text if len(text) > 0 else "")
        self.updateGeometry()
        self._elide()

    def full_text(self) -> str:
        return self._full

    def minimumSizeHint(self):  # type: ignore[no-untyped-def]
        hint = super().minimumSizeHint()
        hint.setWidth(40)
        return hint

    def sizeHint(self):  # type: ignore[no-untyped-def]
        hint = super().sizeHint()
        full = self.fontMetrics().horizontalAdvance(self._full) + 2 * self.margin() + 4
        hint.setWidth(min(full, self._max_hint))
        return hint

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        one_line = " ⏎ ".join(self._full.splitlines()) if "\n" in self._full else self._full
        shown = self.fontMetrics().elidedText(one_line, self._mode, max(40, self.width()))
        if shown != super().text():
            super().setText(shown)


def _make_table_view() -> QTableView:
    view = QTableView()
    view.setSortingEnabled(True)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(22)
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class FilterTable(QWidget):
    """A read-only table of rows with a filter box above and a ``n of m`` count; sortable.

    ``set_rows`` keeps the sort order, filter text and scroll position when called again.
    """

    rowsChanged = Signal()

    def __init__(self, headers: Sequence[str], placeholder: str = "Filter…",
                 numeric_align: Iterable[int] = (), stretch_column: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stretch = stretch_column
        self._headers = list(headers)
        self._numeric = set(numeric_align)
        self._rows: list[tuple[Any, ...]] = []
        self.model = QStandardItemModel(0, len(headers), self)
        self.model.setHorizontalHeaderLabels(self._headers)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(placeholder)
        self.filter.setClearButtonEnabled(True)
        set_icon(self.filter.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition), "search")
        self.filter.textChanged.connect(self._on_filter)
        self.count = QLabel()
        self.count.setObjectName("PanelTitle")
        self.view = _make_table_view()
        self.view.setModel(self.proxy)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        if stretch_column is not None:
            self.view.horizontalHeader().setStretchLastSection(False)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter, 1)
        top.addWidget(self.count)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        self._update_count()

    def set_rows(self, rows: Sequence[tuple[Any, ...]], display: Sequence[tuple[str, ...]] | None = None) -> bool:
        """``rows`` are raw values (for sorting); ``display`` their text (default ``str``).

        Returns False (and changes nothing) when the rows are the ones already shown.
        """
        rows = [tuple(r) for r in rows]
        if repr(rows) == repr(self._rows):  # repr: NaN equals NaN here
            return False
        self._rows = rows
        shown = display if display is not None else [tuple(fmt_cell(v) for v in r) for r in rows]
        bar = self.view.verticalScrollBar().value()
        self.model.setRowCount(0)
        align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for raw, text in zip(rows, shown, strict=True):
            items = []
            for col, (value, label) in enumerate(zip(raw, text, strict=True)):
                item = QStandardItem(label)
                item.setData(sort_key(value), SORT_ROLE)
                item.setEditable(False)
                if len(label) > 60:
                    item.setToolTip(label[:2000])
                if col in self._numeric:
                    item.setTextAlignment(align)
                items.append(item)
            self.model.appendRow(items)
        self.view.verticalScrollBar().setValue(bar)
        self._update_count()
        self.rowsChanged.emit()
        return True

    def row_count(self) -> int:
        """Rows shown after filtering."""
        return self.proxy.rowCount()

    def cell(self, row: int, col: int) -> str:
        """Text of a shown (sorted, filtered) cell."""
        return str(self.proxy.index(row, col).data() or "")

    def resize_columns(self, max_width: int = 320) -> None:
        """Fit columns to their contents (capped); the stretch column takes the rest."""
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        last = self.model.columnCount() - 1
        for c in range(self.model.columnCount()):
            if c == self._stretch:
                header.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch)
            elif c != last or self._stretch is not None:
                header.resizeSection(c, min(max(header.sectionSize(c) + 12, 70), max_width))
                header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)

    def _on_filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_count()

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.count.setText(f"{shown} of {total}" if shown != total else f"{total}")


def fmt_cell(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt_number(value)
    return "" if value is None else str(value)
