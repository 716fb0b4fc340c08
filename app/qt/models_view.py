"""The Models page: registered models, their versions, stages and aliases, each linked to the
run that produced it (double-click a version to open its run). On a writable store the selected
version's aliases, stage and description are edited here, each edit an undoable command."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.commands import EditVersionDescription, RemoveModelAlias, SetModelAlias, SetStage
from app.core.models_table import HEADERS, NUMERIC, run_of_row, version_rows
from app.qt.detail_common import FilterTable, local_time
from tracker_sdk.entities import ModelVersion, RegisteredModel
from tracker_sdk.errors import ValidationError
from tracker_sdk.model_uri import ACTIVE_STAGES, STAGES, check_alias

ALL = object()  # the "All models" entry


class ModelsView(QWidget):
    sig_run_activated = Signal(str)  # a version's source run id
    sig_edit = Signal(object)  # an app.core.commands.Command to push on the undo stack

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
        self.read_only = True  # until a writable store opens: no edits offered
        self._build_edit_actions()
        self.table.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.view.customContextMenuRequested.connect(self._context_menu)
        self.table.view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.empty = QLabel("No registered models in this store.\nModels registered in MLflow "
                            "(mlflow.register_model, registered_model_name=…) show here.",
                            alignment=Qt.AlignmentFlag.AlignCenter, objectName="EmptyState")
        right = QWidget()
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(0, 0, 0, 0)
        rlay.addWidget(self.about)
        rlay.addWidget(self.toolbar)
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
        selected = self._selected()
        rows = version_rows(self._models, self._run_names, chosen)
        shown = [tuple(local_time(v) if i == HEADERS.index("Registered") else str(v) for i, v in enumerate(r))
                 for r in rows]
        self.table.set_rows(rows, shown)
        self.table.resize_columns(max_width=220)
        if selected is not None:  # an edit re-reads the registry: the edited version stays selected
            self._select(selected[0].name, selected[1].version)
        self._update_actions()
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

    # --- editing (writable stores only) ---------------------------------------------------------
    def _build_edit_actions(self) -> None:
        self.alias_action = QAction("Set alias…", self, toolTip="Point an alias (e.g. champion) at this "
                                    "version, moving it from the version it named")
        self.alias_action.triggered.connect(self.set_alias)
        self.remove_alias_menu = QMenu("Remove alias", self)
        self.stage_menu = QMenu("Stage", self)
        self.stage_group = QActionGroup(self, exclusive=True)
        self.stage_actions: dict[str, QAction] = {}
        for stage in STAGES:
            action = self.stage_menu.addAction(stage)
            action.setCheckable(True)
            self.stage_group.addAction(action)
            action.triggered.connect(lambda _checked=False, s=stage: self.set_stage(s))
            self.stage_actions[stage] = action
        self.stage_menu.addSeparator()
        self.archive_action = self.stage_menu.addAction("Archive the other versions in that stage")
        self.archive_action.setCheckable(True)
        self.archive_action.setToolTip("MLflow's archive_existing_versions: moving a version to Staging or "
                                       "Production moves the versions already there to Archived")
        self.stage_menu.setToolTipsVisible(True)
        self.describe_action = QAction("Edit description…", self)
        self.describe_action.triggered.connect(self.edit_description)
        self.toolbar = QToolBar(objectName="ModelsToolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addAction(self.alias_action)
        self._menu_buttons: list[QToolButton] = []
        for menu in (self.remove_alias_menu, self.stage_menu):
            button = QToolButton(text=menu.title(), popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
            button.setMenu(menu)
            self.toolbar.addWidget(button)
            self._menu_buttons.append(button)
        self.toolbar.addAction(self.describe_action)

    def set_read_only(self, read_only: bool) -> None:
        """A store Runwatch only reads (MLflow's): no edit is offered."""
        self.read_only = read_only
        self.toolbar.setVisible(not read_only)
        self._update_actions()

    def _selected(self) -> tuple[RegisteredModel, ModelVersion] | None:
        """The version of the table's current row, as last read from the store."""
        index = self.table.view.currentIndex()
        if not index.isValid() or not self.table.view.selectionModel().isRowSelected(index.row()):
            return None
        name, number = self.table.cell(index.row(), 0), self.table.cell(index.row(), 1)
        model = next((m for m in self._models if m.name == name), None)
        version = next((v for v in model.versions if str(v.version) == number), None) if model else None
        return None if version is None else (model, version)

    def _select(self, name: str, version: int) -> None:
        for row in range(self.table.row_count()):
            if self.table.cell(row, 0) == name and self.table.cell(row, 1) == str(version):
                self.table.view.selectRow(row)
                return

    def _update_actions(self) -> None:
        selected = None if self.read_only else self._selected()
        for action in (self.alias_action, self.describe_action, self.remove_alias_menu.menuAction(),
                       self.stage_menu.menuAction()):
            action.setEnabled(selected is not None)
        self.remove_alias_menu.clear()
        if selected is not None:
            version = selected[1]
            for alias in version.aliases:
                action = self.remove_alias_menu.addAction(f"@{alias}")
                action.triggered.connect(lambda _checked=False, a=alias: self.remove_alias(a))
            self.remove_alias_menu.menuAction().setEnabled(bool(version.aliases))
            if version.stage in self.stage_actions:  # a foreign store may hold any text
                self.stage_actions[version.stage].setChecked(True)
        for button in self._menu_buttons:  # a tool button does not follow its menu's action
            button.setEnabled(button.menu().menuAction().isEnabled())

    def _context_menu(self, pos: QPoint) -> None:
        if self.read_only or self._selected() is None:
            return
        menu = QMenu(self)
        menu.addAction(self.alias_action)
        menu.addMenu(self.remove_alias_menu)
        menu.addMenu(self.stage_menu)
        menu.addSeparator()
        menu.addAction(self.describe_action)
        menu.exec(self.table.view.viewport().mapToGlobal(pos))

    def set_alias(self) -> None:
        selected = self._selected()
        if selected is None or self.read_only:
            return
        model, version = selected
        text, ok = QInputDialog.getText(self, "Set alias", f"Alias for {model.name} v{version.version} "
                                        "(moved here if another version has it):")
        if not ok or not text.strip():
            return
        try:
            alias = check_alias(text.strip())
        except ValidationError as e:
            QMessageBox.warning(self, "Set alias", str(e))
            return
        previous = model.aliases.get(alias)
        if previous == version.version:
            return
        verb = "Set" if previous is None else f"Move (from v{previous})"
        self.sig_edit.emit(SetModelAlias(f"{verb} @{alias} → {model.name} v{version.version}",
                                         model.name, alias, version.version, previous))

    def remove_alias(self, alias: str) -> None:
        selected = self._selected()
        if selected is None or self.read_only:
            return
        model, version = selected
        self.sig_edit.emit(RemoveModelAlias(f"Remove @{alias} from {model.name} v{version.version}",
                                            model.name, alias, version.version))

    def set_stage(self, stage: str) -> None:
        selected = self._selected()
        if selected is None or self.read_only:
            return
        model, version = selected
        if stage == version.stage:
            return
        archive = self.archive_action.isChecked() and stage in ACTIVE_STAGES
        label = f"{model.name} v{version.version} → {stage}" + (" (others archived)" if archive else "")
        self.sig_edit.emit(SetStage.of(label, model, version.version, stage, archive))

    def edit_description(self) -> None:
        selected = self._selected()
        if selected is None or self.read_only:
            return
        model, version = selected
        text, ok = QInputDialog.getMultiLineText(self, "Edit description",
                                                 f"Description of {model.name} v{version.version}:",
                                                 version.description)
        if ok and text != version.description:
            self.sig_edit.emit(EditVersionDescription(f"Describe {model.name} v{version.version}",
                                                      model.name, version.version, version.description, text))
