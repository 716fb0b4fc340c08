"""``RunsTableModel``: a QAbstractTableModel over a snapshot of runs.

Sorting and filtering happen in the model over precomputed keys (a Python ``lessThan`` in a
proxy costs ~1 s on 10,000 rows); the view only ever sees ``rows``, a list of run ids.
Column 0 is the chart toggle: a check box plus the run's colour swatch. Child runs are listed
under their parent (``app.core.nesting``); a collapsed parent hides them from ``rows`` only:
they stay listed (``listed_ids``), charted when checked, and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont

from app.core.colors import run_color
from app.core.columns import Column, display_value, raw_value, sort_key
from app.core.nesting import Nesting, nest
from tracker_sdk.entities import RunInfo, RunStatus

RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
DEPTH_ROLE = Qt.ItemDataRole.UserRole + 3  # name column: nesting depth (0 = top level)
CHILDREN_ROLE = Qt.ItemDataRole.UserRole + 4  # name column: listed child runs
EXPANDED_ROLE = Qt.ItemDataRole.UserRole + 5  # name column: children shown
_Index = QModelIndex | QPersistentModelIndex

STATUS_COLORS = {"RUNNING": "#2f80ed", "FINISHED": "#27ae60", "FAILED": "#e5484d",
                 "KILLED": "#d9822b", "CRASHED": "#e5484d"}


class RunsTableModel(QAbstractTableModel):
    sig_checked_changed = Signal()
    """The set of runs shown in the charts changed."""
    sig_folding_changed = Signal()
    """A parent run was folded or unfolded (``collapsed`` changed)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.runs: dict[str, RunInfo] = {}
        self.rows: list[str] = []
        self.columns: list[Column] = []
        self.checked: set[str] = set()
        self.colors: dict[str, str] = {}
        self.experiment: str | None = None
        self.filter_ids: set[str] | None = None  # ids passing the filter bar; None = no filter
        self.brush_ids: set[str] | None = None  # ids passing the sweep view's brushes
        self.show_deleted = False
        self.pulse = 1.0  # 0..1, animated by the view for RUNNING rows
        self.nested = True  # children under their parent
        self.read_only = False  # the store is another tool's, read in place: no edits
        self.collapsed: set[str] = set()
        self._nesting = Nesting()
        self._sort: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    # --- Qt model API -------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns) + 1

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return "" if section == 0 else self.columns[section - 1].title
        if role == Qt.ItemDataRole.ToolTipRole:
            return "Show in charts" if section == 0 else self.columns[section - 1].id
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return base | Qt.ItemFlag.ItemIsUserCheckable if index.column() == 0 else base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        run = self.runs[self.rows[index.row()]]
        c = index.column()
        if role == RUN_ID_ROLE:
            return run.id
        if c == 0:
            if role == Qt.ItemDataRole.CheckStateRole:
                return Qt.CheckState.Checked if run.id in self.checked else Qt.CheckState.Unchecked
            if role == Qt.ItemDataRole.DecorationRole:
                return QColor(self.color(run.id))
            return None
        col = self.columns[c - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            if col.kind == "parent":  # the parent's name reads better than its id
                parent = self.runs.get(run.parent_id or "")
                return parent.name if parent is not None else (run.parent_id or "")[:8]
            return display_value(run, col)
        if col.kind == "name" and role in (DEPTH_ROLE, CHILDREN_ROLE, EXPANDED_ROLE):
            if role == DEPTH_ROLE:
                return self._nesting.depth.get(run.id, 0)
            if role == CHILDREN_ROLE:
                return self._nesting.children.get(run.id, 0)
            return run.id not in self.collapsed
        if role == SORT_ROLE:
            return raw_value(run, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(run, col)
        if role == Qt.ItemDataRole.ForegroundRole and col.kind == "status":
            color = QColor(STATUS_COLORS.get(run.status.value, "#888888"))
            if run.status is RunStatus.RUNNING:
                color.setAlphaF(0.45 + 0.55 * self.pulse)
            return QBrush(color)
        if role == Qt.ItemDataRole.FontRole and (col.kind == "status" and run.status in (
                RunStatus.FAILED, RunStatus.CRASHED)):
            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.ForegroundRole and run.deleted:
            return QBrush(QColor("#999999"))
        if role == Qt.ItemDataRole.TextAlignmentRole and col.kind in ("metric", "duration"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if index.column() != 0 or role != Qt.ItemDataRole.CheckStateRole:
            return False
        rid = self.rows[index.row()]
        on = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
        (self.checked.add if on else self.checked.discard)(rid)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.sig_checked_changed.emit()
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (column, order)
        self._relayout(self._arrange(self.listed_ids))

    # --- nesting ------------------------------------------------------------------------------
    @property
    def has_children(self) -> bool:
        """Some listed run has listed child runs (the name column keeps room for arrows)."""
        return bool(self._nesting.children)

    @property
    def listed_ids(self) -> list[str]:
        """Every run the table lists, in table order, including those a collapsed parent hides."""
        return self._nesting.order

    def has_listed_children(self, run_id: str) -> bool:
        return bool(self._nesting.children.get(run_id))

    def set_nested(self, on: bool) -> None:
        """List child runs under their parent (True) or as a flat list."""
        if on != self.nested:
            self.nested = on
            self._relayout(self._arrange(self.listed_ids))

    def set_collapsed(self, run_id: str, collapsed: bool) -> None:
        """Hide (or show) a parent's child runs."""
        if collapsed == (run_id in self.collapsed):
            return
        (self.collapsed.add if collapsed else self.collapsed.discard)(run_id)
        self._relayout(self._nesting.visible(self.collapsed))
        self.sig_folding_changed.emit()

    def set_all_collapsed(self, collapsed: bool) -> None:
        """Fold (or unfold) every parent run the table lists."""
        self.collapsed = set(self._nesting.children) if collapsed else set()
        self._relayout(self._nesting.visible(self.collapsed))
        self.sig_folding_changed.emit()

    def reveal(self, run_id: str) -> int:
        """Expand the parents hiding ``run_id``; its row (-1 when not listed)."""
        hidden_by = [p for p in self._nesting.ancestors(run_id) if p in self.collapsed]
        if hidden_by:
            self.collapsed.difference_update(hidden_by)
            self._relayout(self._nesting.visible(self.collapsed))
            self.sig_folding_changed.emit()
        return self.row_of(run_id)

    def _arrange(self, ids: list[str]) -> list[str]:
        """Sort ``ids`` (every listed run), nest them, and return the rows to show."""
        ordered = self._ordered(ids)
        if self.nested:
            self._nesting = nest(ordered, {r: self.runs[r].parent_id for r in ordered})
        else:
            self._nesting = Nesting(order=ordered, depth=dict.fromkeys(ordered, 0))
        return self._nesting.visible(self.collapsed)

    def _relayout(self, rows: list[str]) -> None:
        """Show ``rows`` (same or other runs) keeping the selection and current index on
        their runs, not on their old row numbers."""
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        where = {rid: i for i, rid in enumerate(rows)}
        new = []
        for idx in old:
            row = where.get(self.rows[idx.row()], -1) if 0 <= idx.row() < len(self.rows) else -1
            new.append(self.index(row, idx.column()) if row >= 0 else QModelIndex())
        self.rows = rows
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    # --- model state --------------------------------------------------------------------------
    def color(self, run_id: str) -> str:
        c = self.colors.get(run_id)
        if c is None:
            # Distinct palette entries in the order runs are first drawn, then stable hashes.
            c = self.colors[run_id] = run_color(run_id, len(self.colors))
        return c

    def run_at(self, row: int) -> RunInfo | None:
        return self.runs.get(self.rows[row]) if 0 <= row < len(self.rows) else None

    def row_of(self, run_id: str) -> int:
        try:
            return self.rows.index(run_id)
        except ValueError:
            return -1

    def listed_runs(self) -> list[RunInfo]:
        """The runs the table lists, in its order (collapsed children included)."""
        return [self.runs[r] for r in self.listed_ids]

    def checked_runs(self) -> list[RunInfo]:
        return [self.runs[r] for r in self.listed_ids if r in self.checked]

    def set_columns(self, columns: Sequence[Column]) -> None:
        self.beginResetModel()
        self.columns = list(columns)
        self.endResetModel()

    def set_checked(self, run_ids: Iterable[str]) -> None:
        self.checked = set(run_ids)
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 0),
                                  [Qt.ItemDataRole.CheckStateRole])
        self.sig_checked_changed.emit()

    def set_scope(self, *, experiment: str | None = ..., match: set[str] | None = ...,  # type: ignore[assignment]
                  brush: set[str] | None = ..., show_deleted: bool | None = None) -> None:  # type: ignore[assignment]
        """Change which runs are listed (experiment, filter-bar matches, brushes, deleted)."""
        if experiment is not ...:
            self.experiment = experiment
        if match is not ...:
            self.filter_ids = match
        if brush is not ...:
            self.brush_ids = brush
        if show_deleted is not None:
            self.show_deleted = show_deleted
        self.beginResetModel()
        self.rows = self._arrange([r.id for r in self.runs.values() if self._listed(r)])
        self.endResetModel()

    def apply(self, changed: Mapping[str, RunInfo], reset: bool = False) -> list[str]:
        """Merge fresh run snapshots; returns ids of runs that newly appeared in the table."""
        if reset:
            self.runs = dict(changed)
            self.collapsed &= self.runs.keys()
            self.beginResetModel()
            self.rows = self._arrange([r.id for r in self.runs.values() if self._listed(r)])
            self.endResetModel()
            return list(self.listed_ids)
        self.runs.update(changed)
        listed = set(self.listed_ids)
        new = [rid for rid, run in changed.items() if rid not in listed and self._listed(run)]
        gone = {rid for rid, run in changed.items() if rid in listed and not self._listed(run)}
        if new or gone:
            # New runs go where the current sort (and their parent) puts them.
            self._relayout(self._arrange([r for r in self.listed_ids if r not in gone] + new))
        where = {rid: i for i, rid in enumerate(self.rows)}
        for rid in changed:
            row = where.get(rid)
            if row is not None and rid not in new:
                self.dataChanged.emit(self.index(row, 0), self.index(row, self.columnCount() - 1))
        return new

    def _listed(self, run: RunInfo, brush: bool = True) -> bool:
        if run.deleted and not self.show_deleted:
            return False
        if self.experiment is not None and run.experiment != self.experiment:
            return False
        if brush and self.brush_ids is not None and run.id not in self.brush_ids:
            return False
        return self.filter_ids is None or run.id in self.filter_ids

    def scoped_runs(self) -> list[RunInfo]:
        """The runs the table lists before the sweep brushes apply (what the sweep views show)."""
        return [r for r in self.runs.values() if self._listed(r, brush=False)]

    def _ordered(self, ids: list[str]) -> list[str]:
        column, order = self._sort
        if column <= 0 or column > len(self.columns):
            # Default: newest first, like every tracker's run list.
            return sorted(ids, key=lambda r: -self.runs[r].start_time)
        col = self.columns[column - 1]
        desc = order == Qt.SortOrder.DescendingOrder
        keyed = [(sort_key(raw_value(self.runs[r], col)), r) for r in ids]
        present = [k for k in keyed if k[0][0] < 2]
        missing = [k for k in keyed if k[0][0] == 2]
        present.sort(key=lambda k: k[0], reverse=desc)  # missing stays last either way
        return [r for _, r in present] + [r for _, r in missing]

    def _tooltip(self, run: RunInfo, col: Column) -> str | None:
        if col.kind == "status" and run.status is RunStatus.CRASHED:
            return "The process stopped without finishing the run (no heartbeat, or its pid is gone)."
        if col.kind == "git":
            env = run.environment
            return f"{env.get('git_commit', '')} ({env.get('git_branch', '?')}){' dirty' if env.get('git_dirty') else ''}"
        if col.kind == "name":
            kids = self._nesting.children.get(run.id, 0)
            more = f"\n{kids} child run{'s' if kids != 1 else ''}" if kids else ""
            return f"{run.name}\n{run.id}{more}"
        return None
