"""``MainWindow``: composition only — panels, menus, status bar and remembered layout."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.chart_settings import ChartSettings
from app.core.commands import EDIT_ACTIONS
from app.core.live import Refresh
from app.qt.artifacts_view import ArtifactsView
from app.qt.charts.panel import ChartsView
from app.qt.compare_panel import ComparePanel
from app.qt.compare_window import CompareDock
from app.qt.help_menu import build_help_menu
from app.qt.models_view import ModelsView
from app.qt.controller import Controller
from app.qt.export_actions import add_export_actions
from app.qt.run_detail import RunDetailView
from app.qt.runs_model import RunsTableModel
from app.qt.runs_view import RunsView
from app.qt.session import StoreSession
from app.qt.theme import apply_theme, current_theme, icon, set_style_property
from app.qt.views_menu import ViewsMenu
from app.qt.welcome import WelcomePage
from tracker_sdk.entities import Experiment, RunInfo

MAX_RECENT = 8
ALL = None  # experiments list entry for "all experiments"


#: Runs side by side at most (one column each); the sweep views take thousands.
MAX_SIDE_BY_SIDE = 200


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("Runwatch", "Runwatch")
        self.setWindowTitle("Runwatch")
        self.setWindowIcon(icon("runwatch"))
        self.session = StoreSession(self)
        self.runs_model = RunsTableModel(self)
        self.runs_view = RunsView(self.runs_model)
        self.experiments = QListWidget(objectName="Experiments")
        self.experiments.currentItemChanged.connect(self._on_experiment_chosen)
        self.charts = ChartsView()
        self.detail = RunDetailView()
        self.artifacts = ArtifactsView()
        self.compare = ComparePanel()
        self.models = ModelsView()
        self.welcome = WelcomePage()
        self._build_layout()
        self.controller = Controller(self)
        self.compare_dock = CompareDock(self.tabs, self.compare, self.settings, self.controller.update_sweep)
        self.compare.sig_pop_out.connect(self.compare_dock.pop_out)
        self._build_actions()
        self.welcome.sig_open_requested.connect(self.choose_store)
        self.welcome.sig_demo_requested.connect(self.create_demo)
        self.welcome.sig_store_chosen.connect(self.open_store)
        self.session.sig_opened.connect(self._on_opened)
        self.charts.sig_settings_changed.connect(
            lambda s: self.settings.setValue("charts/settings", s.to_dict()))
        self._restore_settings()
        self._last_update = 0.0
        self._busy_since: float | None = None

    # --- layout -------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(6, 6, 0, 6)
        lay.addWidget(QLabel("Experiments", objectName="PanelTitle"))
        lay.addWidget(self.experiments)
        left.setMinimumWidth(150)
        self.experiments.setTextElideMode(Qt.TextElideMode.ElideMiddle)

        self.tabs = QTabWidget(documentMode=True)
        self.tabs.addTab(self.charts, icon("chart"), "Charts")
        self.tabs.addTab(self.detail, icon("info"), "Run")
        self.tabs.addTab(self.artifacts, icon("file"), "Artifacts")
        self.tabs.addTab(self.compare, icon("compare"), "Compare")
        self.tabs.addTab(self.models, icon("model"), "Models")
        # An explicit minimum overrides the pages' size hints (the compare toolbars alone ask for
        # ~690 px), so the splitter can give the runs table room; narrow pages clip, not the window.
        self.tabs.setMinimumWidth(420)

        self.message = QLabel(objectName="MessageBar", wordWrap=True)
        self.message.setProperty("level", "error")
        close = QToolButton(icon=icon("x"), autoRaise=True, toolTip="Dismiss")
        self.message_frame = QFrame(objectName="MessageBar")
        self.message_frame.setProperty("level", "error")
        mlay = QHBoxLayout(self.message_frame)
        mlay.setContentsMargins(8, 4, 4, 4)
        mlay.addWidget(self.message, 1)
        mlay.addWidget(close)
        close.clicked.connect(self.message_frame.hide)
        self.message_frame.hide()

        self.split_runs = QSplitter(Qt.Orientation.Horizontal)
        self.split_runs.addWidget(left)
        self.split_runs.addWidget(self.runs_view)
        self.split_runs.setStretchFactor(1, 1)
        self.split_main = QSplitter(Qt.Orientation.Horizontal)
        self.split_main.addWidget(self.split_runs)
        self.split_main.addWidget(self.tabs)
        self.split_main.setStretchFactor(0, 2)
        self.split_main.setStretchFactor(1, 3)
        self._sized = False
        main = QWidget()
        mlay2 = QVBoxLayout(main)
        mlay2.setContentsMargins(0, 0, 0, 0)
        mlay2.setSpacing(0)
        mlay2.addWidget(self.message_frame)
        mlay2.addWidget(self.split_main, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(main)
        self.setCentralWidget(self.stack)
        self.live_label = QLabel()
        self.store_label = QLabel()
        self.read_only_label = QLabel(objectName="ReadOnlyBadge")
        self.read_only_label.hide()
        # A thin indeterminate bar while the store is read in the background (opening a big
        # store, loading long series): the window stays usable meanwhile.
        self.busy = QProgressBar(maximumWidth=120, maximumHeight=10, textVisible=False)
        self.busy.setRange(0, 0)
        self.busy.hide()
        self.statusBar().addWidget(self.read_only_label)
        self.statusBar().addWidget(self.store_label, 1)
        self.statusBar().addPermanentWidget(self.busy)
        self.statusBar().addPermanentWidget(self.live_label)
        self._busy_timer = QTimer(self, interval=150)
        self._busy_timer.timeout.connect(self._update_busy)
        self._busy_timer.start()
        self._live_timer = QTimer(self, interval=1000)
        self._live_timer.timeout.connect(self._update_live_label)

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._open_action = self._add(file, "Open store…", "open-folder", QKeySequence.StandardKey.Open,
                                      self.choose_store)
        self._add(file, "Create demo store…", "play", None, self.create_demo)
        self.recent_menu = file.addMenu("Open recent")
        file.addSeparator()
        add_export_actions(self, file)
        file.addSeparator()
        self._add(file, "Quit", None, QKeySequence.StandardKey.Quit, self.close)
        edit = bar.addMenu("&Edit")
        undo = self.controller.undo.createUndoAction(self, "Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.controller.undo.createRedoAction(self, "Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addActions([undo, redo])
        edit.addSeparator()
        self._add(edit, "Filter runs", "filter", "Ctrl+L", self.runs_view.focus_filter)
        view = bar.addMenu("&View")
        self._refresh_action = self._add(view, "Refresh", "refresh", QKeySequence.StandardKey.Refresh,
                                         self.refresh)
        # One F5 for the window (the artifacts pane's own would make the key ambiguous there).
        self.artifacts.refresh_action.setShortcuts([])
        for i, name in enumerate(("Charts", "Run", "Artifacts", "Compare", "Models")):
            self._add(view, name, None, f"Ctrl+{i + 1}", lambda _=False, i=i: self.tabs.setCurrentIndex(i))
        view.addSeparator()
        self.nest_action = self._toggle(view, "Nest child runs under their parent", "runs/nested", True,
                                        self.runs_model.set_nested)
        self._add(view, "Fold all sweeps", None, None, lambda: self.runs_model.set_all_collapsed(True))
        self._add(view, "Unfold all sweeps", None, None, lambda: self.runs_model.set_all_collapsed(False))
        self.deleted_action = self._toggle(view, "Show deleted runs", "runs/show_deleted", False,
                                           lambda on: self.runs_model.set_scope(show_deleted=on))
        view.addSeparator()
        group = QActionGroup(self)
        for theme in ("light", "dark"):
            act = self._add(view, f"{theme.capitalize()} theme", "sun" if theme == "light" else "moon", None,
                            lambda _=False, t=theme: self.set_theme(t))
            act.setCheckable(True)
            act.setChecked(current_theme() == theme)
            group.addAction(act)
        runs = bar.addMenu("&Runs")
        self._compare_action = self._add(runs, "Compare selected", "compare", "Ctrl+D",
                                         lambda: self.controller.run_action("compare", self.runs_view.selected_ids()))
        self._add(runs, "Compare all listed runs", "compare", "Ctrl+Shift+D", self.compare_listed)
        self._add(runs, "Compare in its own window", None, None, self.compare_dock.pop_out)
        runs.addSeparator()
        self._edit_actions = []
        for name, label, ic in (("rename", "Rename…", "rename"),
                                ("tag", "Add tag…", "tag"), ("copy_id", "Copy run id", "copy"),
                                ("delete", "Delete", "delete"), ("restore", "Restore", "restore")):
            act = self._add(runs, label, ic, None,
                            lambda _=False, n=name: self.controller.run_action(n, self.runs_view.selected_ids()))
            if name in EDIT_ACTIONS:
                self._edit_actions.append(act)
        self.views_menu = ViewsMenu(self)
        bar.addMenu(self.views_menu)
        bar.addMenu(build_help_menu(self))
        tb = self.addToolBar("Main")
        tb.setObjectName("MainToolBar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        tb.addActions([self._open_action, self._refresh_action, self._compare_action])

    def _toggle(self, menu, text, key, default, apply) -> QAction:  # type: ignore[no-untyped-def]
        """A checkable menu action whose state is remembered under ``key`` and applied now."""
        on = str(self.settings.value(key, default)).lower() in ("true", "1")
        act = QAction(text, self, checkable=True, checked=on)
        act.toggled.connect(lambda v: (self.settings.setValue(key, v), apply(v)))
        menu.addAction(act)
        if on != default:
            apply(on)
        return act

    def _add(self, menu, text, ic, shortcut, slot) -> QAction:  # type: ignore[no-untyped-def]
        act = QAction(icon(ic) if ic else QIcon(), text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    # --- store --------------------------------------------------------------------------------
    def choose_store(self) -> None:
        start = self.settings.value("store/last", str(Path.cwd()))
        path = QFileDialog.getExistingDirectory(self, "Open a Runwatch store folder", start)
        if path:
            self.open_store(path)

    def create_demo(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for the demo store (a 'runwatch-demo' folder is made in it)")
        if not path:
            return
        target = Path(path) / "runwatch-demo"
        self.statusBar().showMessage(f"Creating a demo store in {target}…")
        from app.demo import make_demo

        self.session.worker.submit(lambda: make_demo(target), lambda _r: self.open_store(str(target)),
                                   lambda e: self.show_error(f"could not create the demo store: {e}"))

    def open_store(self, path: str | Path) -> None:
        self.message_frame.hide()
        self.welcome.show_error(None)
        self.store_label.setText(f"Opening {path}…")
        self.session.open(path)

    def _on_opened(self, store) -> None:  # type: ignore[no-untyped-def]
        path = str(store.path)
        self.setWindowTitle(f"{store.path.name} — Runwatch")
        self.store_label.setText(path)
        # Another tool's store is read in place and never written: say so where the store is
        # named, and take the edits away rather than let them fail.
        self.read_only_label.setText(f"Read-only · {store.source_kind} store")
        self.read_only_label.setToolTip(
            f"Runwatch reads this {store.source_kind} store live and never writes to it. To rename, "
            "tag or delete runs, import it into a Runwatch store (runwatch import).")
        self.read_only_label.setVisible(store.read_only)
        for act in self._edit_actions:
            act.setEnabled(not store.read_only)
        notice = store.notice()
        if notice:
            self.show_message(notice, level="info")
        self.stack.setCurrentIndex(1)
        recent = [path] + [p for p in self._recent() if p != path]
        self.settings.setValue("store/recent", recent[:MAX_RECENT])
        self.settings.setValue("store/last", path)
        self._fill_recent()
        self._live_timer.start()

    def _recent(self) -> list[str]:
        v = self.settings.value("store/recent", [])
        return [str(p) for p in (v if isinstance(v, list) else [v] if v else [])]

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for p in self._recent():
            self.recent_menu.addAction(p, lambda p=p: self.open_store(p))
        self.welcome.set_recent(self._recent())

    def show_error(self, text: str) -> None:
        if self.stack.currentIndex() == 0 or self.session.store is None:
            self.stack.setCurrentIndex(0)
            self.welcome.show_error(text)
            self.store_label.setText("")
        else:
            self.show_message(text)

    def show_message(self, text: str, level: str = "error") -> None:
        """The dismissable bar above the runs: "info", "warning" or "error"."""
        for widget in (self.message, self.message_frame):
            set_style_property(widget, "level", level)
        self.message.setText(text)
        self.message_frame.show()

    # --- views --------------------------------------------------------------------------------
    def set_experiments(self, exps: Sequence[Experiment]) -> None:
        current = self.experiments.currentItem()
        chosen = current.data(Qt.ItemDataRole.UserRole) if current else ALL
        self.experiments.blockSignals(True)
        self.experiments.clear()
        total = sum(e.run_count for e in exps)
        items = [("All experiments", ALL, total)] + [(e.name, e.name, e.run_count) for e in exps]
        for label, value, n in items:
            item = QListWidgetItem(f"{label}  ({n})")
            item.setData(Qt.ItemDataRole.UserRole, value)
            self.experiments.addItem(item)
            if value == chosen:
                self.experiments.setCurrentItem(item)
        if self.experiments.currentItem() is None:
            self.experiments.setCurrentRow(0)
        self.experiments.blockSignals(False)

    def _on_experiment_chosen(self, item: QListWidgetItem | None, _prev: object = None) -> None:
        self.controller.set_experiment(item.data(Qt.ItemDataRole.UserRole) if item else ALL)

    def show_compare(self, runs: Sequence[RunInfo]) -> None:
        colors = {r.id: self.runs_model.color(r.id) for r in runs}
        self.compare.set_compare(runs, colors, self.session.store, self.session.worker)
        self.compare.tabs.setCurrentWidget(self.compare.table)
        self.compare_dock.show()

    def refresh(self) -> None:
        """Re-read the store now, and the artifact list shown."""
        self.session.refresh()
        self.artifacts.refresh()

    def compare_listed(self) -> None:
        """Compare what the table lists now (a filter result, an experiment, a sweep)."""
        runs = self.runs_model.listed_runs()
        if len(runs) > MAX_SIDE_BY_SIDE:
            self.statusBar().showMessage(
                f"Comparing the first {MAX_SIDE_BY_SIDE} of {len(runs)} listed runs side by side; "
                "the Sweep tab shows them all", 8000)
            runs = runs[:MAX_SIDE_BY_SIDE]
        if runs:
            self.show_compare(runs)

    def set_live_status(self, r: Refresh) -> None:
        self._last_update = time.time()
        self._update_live_label()

    def _update_busy(self) -> None:
        # Only for work that takes a while: a 150 ms tick never flashes for quick refreshes.
        busy = self.session.worker.pending > 0
        if busy and self._busy_since is None:
            self._busy_since = time.monotonic()
        elif not busy:
            self._busy_since = None
        self.busy.setVisible(busy and time.monotonic() - (self._busy_since or 0) > 0.3)

    def _update_live_label(self) -> None:
        running = sum(1 for r in self.runs_model.runs.values() if r.status.value == "RUNNING")
        ago = time.time() - self._last_update if self._last_update else None
        when = "" if ago is None else (" · updated just now" if ago < 2 else f" · updated {int(ago)} s ago")
        self.live_label.setText(f"● live · {running} running{when}" if running else f"● watching{when}")

    def set_theme(self, name: str) -> None:
        apply_theme(QApplication.instance(), name)  # type: ignore[arg-type]
        self.settings.setValue("ui/theme", name)
        if hasattr(self.charts, "apply_theme"):
            self.charts.apply_theme()

    # --- persistence --------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        s = self.settings
        geo = s.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        for key, split in (("window/split_main", self.split_main), ("window/split_runs", self.split_runs)):
            state = s.value(key)
            if state is not None:
                self._sized = split.restoreState(state) or self._sized
        charts = s.value("charts/settings")
        if isinstance(charts, dict):
            self.charts.set_settings(ChartSettings.from_dict(charts))
        self._fill_recent()

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/split_main", self.split_main.saveState())
        s.setValue("window/split_runs", self.split_runs.saveState())
        s.setValue("charts/settings", self.charts.settings().to_dict())
        s.sync()

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        if not self._sized:  # first start: experiments narrow, table ~40 %, charts the rest
            self._sized = True
            w = max(self.width(), 900)
            self.split_main.setSizes([int(w * 0.42), w - int(w * 0.42)])
            self.split_runs.setSizes([175, int(w * 0.42) - 175])

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if self.detail.has_unsaved_changes():
            from PySide6.QtWidgets import QMessageBox

            answer = QMessageBox.question(
                self, "Unsaved note", "The note you are editing is not saved. Quit anyway?",
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Discard:
                event.ignore()
                return
        self.compare_dock.dock()  # remembers its window's geometry
        self.save_settings()
        self.artifacts.shutdown()
        self.session.shutdown()
        super().closeEvent(event)
