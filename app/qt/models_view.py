"""The Models page: registered models, their versions, stages and aliases, each linked to the
run that produced it (double-click a version to open its run)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QSplitter, QVBoxLayout, QWidget

from app.core.models_table import HEADERS, NUMERIC, run_of_row, version_rows
from app.qt.detail_common import FilterTable, local_time
from tracker_sdk.entities import RegisteredModel

ALL = object()  # the "All models" entry


class ModelsView(QWidget):
    sig_run_activated = Signal(str)  # a version's source run id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._models: list[RegisteredModel] = []
        self._run_names: dict[str, str] = {}
        self.models = QListWidget(objectName="ModelsList")
        self.models.currentItemChanged.connect(lambda *_: self._show())
        self.about = QLabel(wordWrap=True, objectName="PanelTitle")
        self.table = FilterTable(HEADERS, "Filter versions…", numeric_align=NUMERIC,
                                 stretch_column=HEADERS.index("Description"))
        self.table.view.doubleClicked.connect(self._activate)
        self.table.view.setToolTip("Double-click a version to open the run that produced it")
        self.empty = QLabel("No registered models in this store.\nModels registered in MLflow "
                            "(mlflow.register_model, registered_model_name=…) show here.",
                            alignment=Qt.AlignmentFlag.AlignCenter, objectName="EmptyState")
        right = QWidget()
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(0, 0, 0, 0)
        rlay.addWidget(self.about)
        rlay.addWidget(self.table, 1)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.models)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 0)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([150, 750])  # names are short; the versions table needs the room
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.empty, 1)
        lay.addWidget(self.split, 1)
        self.set_models([], {})

    def set_models(self, models: Sequence[RegisteredModel], run_names: Mapping[str, str]) -> None:
        """Show ``models``; the chosen model and the table's filter stay as they were."""
        self._models, self._run_names = list(models), dict(run_names)
        self.empty.setVisible(not models)
        self.split.setVisible(bool(models))
        current = self.models.currentItem()
        chosen = current.data(Qt.ItemDataRole.UserRole) if current is not None else ALL
        self.models.blockSignals(True)
        self.models.clear()
        entries = [("All models", ALL, sum(len(m.versions) for m in models))]
        entries += [(m.name, m.name, len(m.versions)) for m in models]
        for label, data, count in entries:
            item = QListWidgetItem(f"{label}  ({count})")
            item.setData(Qt.ItemDataRole.UserRole, data)
            self.models.addItem(item)
            if data == chosen:
                self.models.setCurrentItem(item)
        if self.models.currentItem() is None and self.models.count():
            self.models.setCurrentRow(0)
        self.models.blockSignals(False)
        self._show()

    def _show(self) -> None:
        item = self.models.currentItem()
        chosen = None if item is None or item.data(Qt.ItemDataRole.UserRole) is ALL else item.data(
            Qt.ItemDataRole.UserRole)
        rows = version_rows(self._models, self._run_names, chosen)
        shown = [tuple(local_time(v) if i == HEADERS.index("Registered") else str(v) for i, v in enumerate(r))
                 for r in rows]
        self.table.set_rows(rows, shown)
        self.table.resize_columns(max_width=220)
        model = next((m for m in self._models if m.name == chosen), None)
        if model is None:
            self.about.setText(f"{len(self._models)} registered model{'s' if len(self._models) != 1 else ''}")
        else:
            aliases = ", ".join(f"@{a} → v{n}" for a, n in sorted(model.aliases.items()))
            self.about.setText(" · ".join(p for p in (model.name, model.description, aliases) if p))

    def _activate(self, index) -> None:  # type: ignore[no-untyped-def]
        row = index.row()
        name, version = self.table.cell(row, 0), self.table.cell(row, 1)
        run_id = run_of_row(self._models, name, int(version)) if version.isdigit() else None
        if run_id:
            self.sig_run_activated.emit(run_id)
