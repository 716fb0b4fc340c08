"""'What mattered': each param's rank correlation with the colour metric, strongest first.

Numeric params get Spearman's rho (signed), categorical ones the rank correlation ratio eta
(0..1, unsigned: categories have no order). Both are rank based, so one sorted list makes
sense. A first answer, not a causal one: the caption says so."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRectF, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
    QTableView, QVBoxLayout, QWidget,
)

from app.core.correlation import ParamCorrelation
from app.qt.sweep import MutedLabel, SweepData, qcolor, spec_label, tokens

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
KEY_ROLE = Qt.ItemDataRole.UserRole + 2
CORR_ROLE = Qt.ItemDataRole.UserRole + 3
COLUMNS = ("Param", "Kind", "Correlation", "Runs")
COL_CORR = 2
HEADER_TIPS = (
    "The param",
    "numeric: numbers (Spearman ρ) · categorical: text or mixed values (η)",
    "ρ: Spearman rank correlation with the metric, −1..1 (sign = direction)\n"
    "η: rank correlation ratio for categorical params, 0..1 (no direction)",
    "Runs that have both the param and the metric",
)


class ImportanceModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[ParamCorrelation] = []
        self.metric = ""
        self.lower_better = False

    def set_rows(self, rows: Sequence[ParamCorrelation], metric: str, lower_better: bool) -> None:
        self.beginResetModel()
        self.rows, self.metric, self.lower_better = list(rows), metric, lower_better
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        c, col = self.rows[index.row()], index.column()
        nan = math.isnan(c.rho)
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_CORR:
                return "—" if nan else (f"η {c.rho:.2f}" if c.kind == "categorical" else f"ρ {c.rho:+.2f}")
            return (c.key, c.kind, None, str(c.n))[col]
        if role == SORT_ROLE:
            return (c.key.lower(), c.kind, -1.0 if nan else abs(c.rho), c.n)[col]
        if role == KEY_ROLE:
            return c.key
        if role == CORR_ROLE:
            return c
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(c)
        return None

    def _tip(self, c: ParamCorrelation) -> str:
        if math.isnan(c.rho):
            return f"{c.key}: not enough runs with different values to say ({c.n} runs with both)"
        if c.kind == "categorical":
            return (f"η = {c.rho:.2f}: rank correlation ratio of {self.metric} across the values of "
                    f"{c.key} (0 = no difference between values, 1 = the value decides the rank). "
                    f"Unsigned: categories have no order. {c.n} runs.")
        better = (c.rho < 0) == self.lower_better
        return (f"ρ = {c.rho:+.2f}: Spearman rank correlation of {c.key} with {self.metric}. "
                f"Higher {c.key} goes with {'higher' if c.rho > 0 else 'lower'} {self.metric} "
                f"({'better' if better else 'worse'}). {c.n} runs.")


class CorrelationDelegate(QStyledItemDelegate):
    """|rho| as a bar (blue for positive, orange for negative, grey for eta), the number on the right."""

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, p, opt.widget)
        c: ParamCorrelation | None = index.data(CORR_ROLE)
        if c is None:
            return
        tok = tokens()
        r = QRectF(opt.rect).adjusted(6, 5, -6, -5)
        text_w = 58.0
        track = QRectF(r.left(), r.top(), max(0.0, r.width() - text_w - 6), r.height())
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(qcolor(tok["grid"]))
        p.drawRoundedRect(track, 3, 3)
        if not math.isnan(c.rho):
            color = tok["text_muted"] if c.kind == "categorical" else (tok["accent"] if c.rho >= 0 else tok["warning"])
            p.setBrush(qcolor(color))
            p.drawRoundedRect(QRectF(track.left(), track.top(), track.width() * min(1.0, abs(c.rho)), track.height()), 3, 3)
        p.setPen(qcolor(tok["text"]))
        p.drawText(QRectF(track.right() + 6, opt.rect.top(), text_w, opt.rect.height()),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, index.data() or "")
        p.restore()


class ImportanceView(QWidget):
    sig_param_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ImportanceModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.caption = MutedLabel(wordWrap=True)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_CORR, Qt.SortOrder.DescendingOrder)
        self.table.setItemDelegateForColumn(COL_CORR, CorrelationDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_CORR, QHeaderView.ResizeMode.Stretch)
        for col, w in ((0, 200), (1, 100), (3, 70)):
            self.table.setColumnWidth(col, w)
        self.table.clicked.connect(self._on_clicked)
        box = QVBoxLayout(self)
        box.setContentsMargins(8, 6, 8, 8)
        box.addWidget(self.caption)
        box.addWidget(self.table, 1)
        self._compute: Callable[[], list[ParamCorrelation]] | None = None
        self._data: SweepData | None = None
        self._dirty = False

    def set_data(self, data: SweepData, compute: Callable[[], list[ParamCorrelation]]) -> None:
        """``compute`` is called when the table is shown (or now, if it is)."""
        self._data, self._compute = data, compute
        if self.isVisible():
            self.refresh()
        else:
            self._dirty = True

    def showEvent(self, ev) -> None:  # noqa: N802
        super().showEvent(ev)
        if self._dirty:
            self.refresh()

    def refresh(self) -> None:
        self._dirty = False
        d = self._data
        if d is None or self._compute is None:
            return
        if d.color is None:
            self.model.set_rows([], "", False)
            self.caption.setText("No metric to correlate with: the runs have not logged any metric yet.")
            return
        label = spec_label(d.color.spec)
        self.model.set_rows(self._compute(), label, d.color.lower_better)
        direction = "lower" if d.color.lower_better else "higher"
        self.caption.setText(
            f"Rank correlation of each param with <b>{label}</b> ({direction} is better) over "
            f"{len(d)} runs — a first hint of what mattered, not proof. Click a param to plot it.")

    def order(self) -> list[str]:
        """Param keys in the order shown."""
        return [self.proxy.index(r, 0).data(KEY_ROLE) for r in range(self.proxy.rowCount())]

    def _on_clicked(self, index: QModelIndex) -> None:
        key = index.data(KEY_ROLE)
        if key:
            self.sig_param_chosen.emit(key)
