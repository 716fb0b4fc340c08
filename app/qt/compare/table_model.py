"""The table model behind :class:`~app.qt.compare.table_view.CompareTableView`.

Rows come from :func:`app.core.compare.compare_table`; the model filters, sorts and displays them.
Missing values stay ``None`` (drawn as a grey "—"), never "0".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.core.compare import MISSING, CompareRow, compare_table, filter_rows, sort_key
from app.qt.theme import current_theme, load_tokens
from tracker_sdk.entities import RunInfo

SECTION_COL, KEY_COL, FIRST_RUN_COL = 0, 1, 2
VALUE_ROLE = Qt.ItemDataRole.UserRole + 1  # the raw cell value, None when missing
SECTION_ROLE = Qt.ItemDataRole.UserRole + 2
_SECTION_ORDER = {"param": 0, "tag": 1, "metric": 2, "env": 3}
_SECTION_TOKENS = {"param": "accent", "tag": "warning", "metric": "success", "env": "text_muted"}
_RowId = tuple[str, str]  # (section, key)


def _rid(row: CompareRow) -> _RowId:
    return (row.section, row.key)


class CompareTableModel(QAbstractTableModel):
    """Section column, key column, then one column per run. ``rows`` is what is shown, in order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[RunInfo] = []
        self.colors: dict[str, str] = {}
        self.all_rows: list[CompareRow] = []
        self.rows: list[CompareRow] = []
        self.differences_only = False
        self.search = ""
        self.sort_column = -1
        self.sort_order = Qt.SortOrder.AscendingOrder
        self._swatches: dict[str, QIcon] = {}

    # --- updates ------------------------------------------------------------------------------
    def set_data(self, runs: Sequence[RunInfo], colors: Mapping[str, str],
                 best_steps: Mapping[tuple[str, str], int] | None = None) -> None:
        """New snapshots. Same runs (live update): values change in place, the view keeps its state."""
        same_columns = [r.id for r in runs] == [r.id for r in self.runs]
        self._swatches.clear()
        if not same_columns:
            self.beginResetModel()
            self.runs, self.colors = list(runs), dict(colors)
            self.all_rows = compare_table(runs, best_steps=best_steps)
            self.rows = self._visible()
            self.endResetModel()
            return
        self.runs, self.colors = list(runs), dict(colors)
        self.all_rows = compare_table(runs, best_steps=best_steps)
        self._relayout()
        if self.columnCount() > FIRST_RUN_COL:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, FIRST_RUN_COL, self.columnCount() - 1)

    def set_filter(self, *, differences_only: bool | None = None, search: str | None = None) -> None:
        if differences_only is not None:
            self.differences_only = differences_only
        if search is not None:
            self.search = search
        self._relayout()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column, self.sort_order = column, order
        self._relayout()

    def _relayout(self) -> None:
        """Re-filter and re-sort. Same set of rows: a layout change (selection and scroll kept)."""
        new = self._visible()
        if {_rid(r) for r in new} != {_rid(r) for r in self.rows} or len(new) != len(self.rows):
            self.beginResetModel()
            self.rows = new
            self.endResetModel()
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        ids = [(_rid(self.rows[i.row()]), i.column()) for i in old]
        self.rows = new
        where = {_rid(r): n for n, r in enumerate(new)}
        self.changePersistentIndexList(old, [self.index(where[rid], col) for rid, col in ids])
        self.layoutChanged.emit()

    def _visible(self) -> list[CompareRow]:
        rows = filter_rows(self.all_rows, differences_only=self.differences_only, search=self.search)
        col, desc = self.sort_column, self.sort_order == Qt.SortOrder.DescendingOrder
        if col == KEY_COL:
            return sorted(rows, key=lambda r: r.key.casefold(), reverse=desc)
        if col >= FIRST_RUN_COL and col - FIRST_RUN_COL < len(self.runs):
            i = col - FIRST_RUN_COL
            present = sorted((r for r in rows if r.values[i] is not None),
                             key=lambda r: sort_key(r.values[i]), reverse=desc)
            return present + [r for r in rows if r.values[i] is None]  # missing last, either way
        if col == SECTION_COL and desc:  # sections reversed, keys still in table order
            return sorted(rows, key=lambda r: -_SECTION_ORDER[r.section])
        return rows

    # --- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or not self.runs else FIRST_RUN_COL + len(self.runs)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def value(self, row: int, column: int) -> str | None:
        r = self.rows[row]
        if column == SECTION_COL:
            return r.section
        if column == KEY_COL:
            return r.key
        return r.values[column - FIRST_RUN_COL]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows) or index.column() >= self.columnCount():
            return None
        row, col, R = self.rows[index.row()], index.column(), Qt.ItemDataRole
        v = self.value(index.row(), col)
        if role == R.DisplayRole:
            return MISSING if v is None else v
        if role == VALUE_ROLE:
            return v
        if role == SECTION_ROLE:
            return row.section
        if role == R.ToolTipRole:
            if col < FIRST_RUN_COL:
                return f"{row.key} — differs between runs" if row.differs else row.key
            name = self.runs[col - FIRST_RUN_COL].name
            return f"{name}: missing in this run" if v is None else f"{name}: {v}"
        if role == R.ForegroundRole and v is None:
            return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)
        if role == R.FontRole and row.differs and col == KEY_COL:
            f = QFont(QApplication.font())
            f.setBold(True)
            return f
        if role == R.BackgroundRole and row.differs:
            c = QColor(QApplication.palette().color(QPalette.ColorRole.Highlight))
            c.setAlpha(150 if c.lightness() > 160 else 60)  # a pale highlight needs more of itself
            return c
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or section < 0 or section >= self.columnCount():
            return None
        R = Qt.ItemDataRole
        if section < FIRST_RUN_COL:
            return {R.DisplayRole: ("Section", "Key")[section]}.get(role)  # type: ignore[call-overload]
        run = self.runs[section - FIRST_RUN_COL]
        if role == R.DisplayRole:
            return run.name or run.id[:8]
        if role == R.ToolTipRole:
            return run.id
        if role == R.DecorationRole:
            return self._swatch(self.colors.get(run.id, "#888888"))
        return None

    def _swatch(self, color: str) -> QIcon:
        if color not in self._swatches:
            pm = QPixmap(20, 20)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(color))
            p.drawRoundedRect(QRectF(3, 3, 14, 14), 4, 4)
            p.end()
            self._swatches[color] = QIcon(pm)
        return self._swatches[color]

    def run_names(self) -> list[str]:
        return [r.name or r.id[:8] for r in self.runs]


class CellDelegate(QStyledItemDelegate):
    """Paints the BackgroundRole tint itself: the theme's ``::item`` rule makes the style skip it."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        tint = index.data(Qt.ItemDataRole.BackgroundRole)
        if tint is not None:
            painter.fillRect(option.rect, tint)
        super().paint(painter, option, index)


class SectionDelegate(CellDelegate):
    """Draws the section as a small coloured pill."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        tint = index.data(Qt.ItemDataRole.BackgroundRole)
        if tint is not None:
            painter.fillRect(option.rect, tint)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        color = QColor(load_tokens(current_theme())[_SECTION_TOKENS.get(index.data(SECTION_ROLE), "text_muted")])
        font = QFont(opt.font)
        font.setPixelSize(11)
        font.setBold(True)
        painter.save()
        painter.setFont(font)
        fm = painter.fontMetrics()
        h = fm.height() + 2
        rect = QRectF(opt.rect.left() + 6, opt.rect.center().y() - h / 2 + 1, fm.horizontalAdvance(text) + 14, h)
        bg = QColor(color)
        bg.setAlpha(34)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bg)
        painter.drawRoundedRect(rect, h / 2, h / 2)
        painter.setPen(color)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
