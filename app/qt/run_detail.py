"""The run detail panel: header, overview, params, metric summaries, tags & note, system info.

``RunDetailView.show_run`` takes plain ``RunInfo`` snapshots (no store access here). Edits are
only emitted (``sig_tags_edited``, ``sig_note_edited``); the owner writes them through the SDK
and calls ``show_run`` again with the fresh snapshot. Calling ``show_run`` again for the same
run keeps the current tab, filters, scroll positions and any edit in progress.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.qt.detail_common import (
    ElidedLabel,
    FilterTable,
    copy_to_clipboard,
    retheme,
    set_icon,
    fmt_number,
    human_duration,
    local_time,
    monospace_font,
)
from app.qt.markdown_view import markdown_html
from app.qt.run_detail_edit import NoteEditor, TagsEditor
from app.qt.theme import icon, set_style_property, theme_notifier
from tracker_sdk.entities import RunInfo

_TAB_ICONS = ("info", "settings", "chart", "tag", "columns")
#: Children listed by name before "and N more".
MAX_CHILDREN_SHOWN = 30
_DASH = "—"
_OVERVIEW_CARDS = (
    ("Run", (("experiment", "Experiment"), ("status", "Status"), ("start", "Started"),
             ("end", "Ended"), ("duration", "Duration"), ("tags", "Tags"),
             ("parent", "Parent"), ("children", "Children"))),
    ("Environment", (("user", "User"), ("host", "Host"), ("pid", "PID"), ("python", "Python"),
                     ("git", "Git"), ("script", "Script"), ("cwd", "Working dir"),
                     ("command", "Command"))),
)
_ELIDED = {"command", "script", "cwd"}


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setHorizontalSpacing(16)
    form.setVerticalSpacing(7)
    return form


def _value_label(link_slot: Any = None) -> QLabel:
    label = QLabel()
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                  | Qt.TextInteractionFlag.LinksAccessibleByMouse)
    label.setWordWrap(True)
    if link_slot is not None:
        label.setTextFormat(Qt.TextFormat.RichText)
        label.linkActivated.connect(link_slot)
    else:
        label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(widget)
    return area


def _run_link(run_id: str, text: str) -> str:
    return f'<a href="run:{html.escape(run_id)}">{html.escape(text)}</a>'


def git_text(env: Mapping[str, Any]) -> str:
    """``"1a2b3c4 (main) · dirty"`` from the environment's git fields; "" without git."""
    commit = str(env.get("git_commit") or "")
    if not commit:
        return ""
    text = commit[:8]
    if env.get("git_branch"):
        text += f" ({env['git_branch']})"
    if env.get("git_dirty"):
        text += " · dirty"
    return text


class RunDetailView(QWidget):
    """Details of one run. ``show_run(None)`` shows the empty state."""

    sig_run_activated = Signal(str)  # run id of a clicked parent/child link
    sig_tags_edited = Signal(str, dict, list)  # run id, tags to set, keys to remove
    sig_note_edited = Signal(str, str)  # run id, new note text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run: RunInfo | None = None
        self._note_shown = ""
        self.stack = QStackedWidget()
        self.empty = QLabel("Select a run in the table")
        self.empty.setObjectName("EmptyState")
        self.stack.addWidget(self.empty)
        content = QWidget()
        lay = QVBoxLayout(content)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(8)
        lay.addLayout(self._build_header())
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(_scrolled(self._build_overview()), "Overview")
        self.params = FilterTable(["Key", "Value"], "Filter params…")
        self.tabs.addTab(self._padded(self.params), "Params")
        self.metrics = FilterTable(["Key", "Last", "Min", "Max", "Steps", "Last step"],
                                   "Filter metrics…", numeric_align=range(1, 6), stretch_column=0)
        self.tabs.addTab(self._padded(self.metrics), "Metrics")
        self.tags = TagsEditor()
        self.note = NoteEditor()
        self.tags.edited.connect(self._on_tags_edited)
        self.note.saved.connect(self._on_note_saved)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.tags)
        split.addWidget(self.note)
        split.setSizes([180, 260])
        self.tabs.addTab(self._padded(split), "Tags && note")
        self.tabs.addTab(self._build_system(), "System")
        self._retheme()
        theme_notifier().themeChanged.connect(self._retheme)
        lay.addWidget(self.tabs, 1)
        self.stack.addWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self.show_run(None)

    # --------------------------------------------------------------------------- building
    @staticmethod
    def _padded(widget: QWidget) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(4, 8, 4, 4)
        lay.addWidget(widget)
        return box

    def _build_header(self) -> QHBoxLayout:
        self.title = ElidedLabel(mode=Qt.TextElideMode.ElideRight, max_hint=10_000)
        self.title.setObjectName("RunTitle")
        font = self.title.font()
        font.setPixelSize(18)
        font.setWeight(font.Weight.DemiBold)
        self.title.setFont(font)
        self.title.setMinimumWidth(60)
        self.status_chip = QLabel()
        self.status_chip.setObjectName("StatusChip")
        self.run_id_label = QLabel()
        self.run_id_label.setObjectName("RunIdLabel")
        self.run_id_label.setFont(monospace_font())
        self.run_id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_id_label.setStyleSheet("color: palette(placeholder-text);")
        self.copy_id_button = QToolButton()
        set_icon(self.copy_id_button, "copy")
        self.copy_id_button.setAutoRaise(True)
        self.copy_id_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.copy_id_button.setToolTip("Copy the run id")
        self.copy_id_button.clicked.connect(self._copy_id)
        row = QHBoxLayout()
        row.setSpacing(10)
        row.addWidget(self.title, 0)
        row.addWidget(self.status_chip, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addStretch(1)
        row.addWidget(self.run_id_label)
        row.addWidget(self.copy_id_button)
        return row

    def _build_overview(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(4, 10, 4, 4)
        grid.setSpacing(10)
        self.fields: dict[str, QLabel] = {}
        for col, (title, fields) in enumerate(_OVERVIEW_CARDS):
            card = QFrame()
            card.setObjectName("Card")
            box = QVBoxLayout(card)
            box.setContentsMargins(12, 8, 12, 12)
            heading = QLabel(title)
            heading.setObjectName("PanelTitle")
            box.addWidget(heading)
            form = _form()
            for key, caption in fields:
                if key in _ELIDED:
                    label: QLabel = ElidedLabel()
                    if key == "command":
                        label.setFont(monospace_font())
                elif key in ("parent", "children"):
                    label = _value_label(self._on_link)
                else:
                    label = _value_label()
                self.fields[key] = label
                form.addRow(caption, label)
            box.addLayout(form)
            box.addStretch(1)
            grid.addWidget(card, 0, col)
            grid.setColumnStretch(col, 1)
        self.note_card = QFrame()
        self.note_card.setObjectName("Card")
        box = QVBoxLayout(self.note_card)
        box.setContentsMargins(12, 8, 12, 12)
        heading = QLabel("Note")
        heading.setObjectName("PanelTitle")
        self.note_view = QLabel()
        self.note_view.setTextFormat(Qt.TextFormat.RichText)
        self.note_view.setWordWrap(True)
        self.note_view.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.note_view.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.note_view.setOpenExternalLinks(True)
        box.addWidget(heading)
        box.addWidget(self.note_view, 1)
        grid.addWidget(self.note_card, 1, 0, 1, 2)
        grid.setRowStretch(2, 1)
        return page

    def _build_system(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(4, 8, 4, 4)
        form = _form()
        self.system_fields: dict[str, QLabel] = {}
        for key, caption in (("platform", "Platform"), ("python_executable", "Python executable"),
                             ("git_remote", "Git remote"), ("git_root", "Git root")):
            label = ElidedLabel()
            self.system_fields[key] = label
            form.addRow(caption, label)
        lay.addLayout(form)
        self.packages = FilterTable(["Package", "Version"], "Search packages…")
        lay.addWidget(self.packages, 1)
        return page

    # --------------------------------------------------------------------------- public
    def run(self) -> RunInfo | None:
        return self._run

    def show_run(self, run: RunInfo | None, children: Sequence[RunInfo] = (),
                 parent: RunInfo | None = None) -> None:
        """Show ``run`` (``None``: the empty state). Same run again: refresh in place."""
        new_run = run is None or self._run is None or run.id != self._run.id
        self._run = run
        if run is None:
            self.stack.setCurrentWidget(self.empty)
            self.tags.set_tags(None, {})
            self.note.set_note(None, "")
            return
        self.stack.setCurrentIndex(1)
        self.title.set_full_text(run.name)
        status = run.status.value
        self.status_chip.setText(status)
        set_style_property(self.status_chip, "status", status)
        self.run_id_label.setText(run.id)
        self._fill_overview(run, children, parent)
        params = sorted(run.params.items())
        if self.params.set_rows(params) and new_run:  # a live refresh keeps the user's widths
            self.params.resize_columns()
        if self.metrics.set_rows([(m.key, m.last, m.min, m.max, m.count, m.last_step)
                                  for m in run.metrics.values()]) and new_run:
            self.metrics.resize_columns(260)
        self.tabs.setTabText(1, f"Params ({len(params)})")
        self.tabs.setTabText(2, f"Metrics ({len(run.metrics)})")
        self.tags.set_tags(run.id, run.tags)
        self.note.set_note(run.id, run.note)
        self._fill_system(run.environment, new_run)

    def field_text(self, key: str) -> str:
        """The full text of an overview field (for tests and tooltips)."""
        label = self.fields[key]
        return label.full_text() if isinstance(label, ElidedLabel) else label.text()

    def has_unsaved_changes(self) -> bool:
        return self.note.has_unsaved_changes()

    # --------------------------------------------------------------------------- filling
    def _set(self, key: str, text: str) -> None:
        label = self.fields[key]
        value = text if text else _DASH
        if isinstance(label, ElidedLabel):
            label.set_full_text(value)
        elif label.text() != value:
            label.setText(value)

    def _fill_overview(self, run: RunInfo, children: Sequence[RunInfo], parent: RunInfo | None) -> None:
        env = run.environment
        running = run.status.value == "RUNNING"
        self._set("experiment", run.experiment)
        status = run.status.value.capitalize()
        if run.status.value == "CRASHED":
            status += " (its process is gone or stopped sending heartbeats)"
        if run.deleted:
            status += " · deleted"
        self._set("status", status)
        self._set("start", local_time(run.start_time))
        self._set("end", "still running" if running else local_time(run.end_time))
        duration = human_duration(run.duration_s)
        self._set("duration", f"{duration} so far" if running and duration else duration)
        self._set("user", run.user)
        self._set("host", run.host)
        self._set("pid", str(env.get("pid", "")))
        self._set("command", str(env.get("command", "")))
        self._set("script", str(env.get("script", "")))
        self._set("cwd", str(env.get("cwd", "")))
        self._set("git", git_text(env))
        self._set("python", str(env.get("python", "")))
        self._set("tags", ", ".join(f"{k}={v}" if v else k for k, v in sorted(run.tags.items())))
        note = run.note.strip()
        self.note_card.setVisible(bool(note))
        if self._note_shown != note:
            self._note_shown = note
            bg = self.palette().color(QPalette.ColorRole.AlternateBase)
            self.note_view.setText(markdown_html(note[:20_000], bg))
        if parent is not None:
            self.fields["parent"].setText(_run_link(parent.id, parent.name))
        elif run.parent_id:
            self.fields["parent"].setText(_run_link(run.parent_id, run.parent_id[:8]))
        else:
            self.fields["parent"].setText(_DASH)
        if children:
            links = [_run_link(c.id, c.name) for c in children[:MAX_CHILDREN_SHOWN]]
            more = len(children) - MAX_CHILDREN_SHOWN
            text = ", ".join(links) + (f" and {more} more" if more > 0 else "")
            self.fields["children"].setText(f"{text}&nbsp;&nbsp;<span>({len(children)})</span>")
        else:
            self.fields["children"].setText(_DASH)

    def _fill_system(self, env: Mapping[str, Any], new_run: bool) -> None:
        for key, label in self.system_fields.items():
            value = env.get(key)
            label.set_full_text(str(value) if value not in (None, "") else _DASH)
        packages = env.get("packages")
        rows = sorted((str(k), str(v)) for k, v in packages.items()) if isinstance(packages, Mapping) else []
        if self.packages.set_rows(rows) and new_run:
            self.packages.view.setColumnWidth(0, 260)

    # --------------------------------------------------------------------------- slots
    def _retheme(self, _name: str = "") -> None:
        for i, name in enumerate(_TAB_ICONS):
            self.tabs.setTabIcon(i, icon(name))
        retheme(self)

    def _copy_id(self) -> None:
        if self._run is not None:
            copy_to_clipboard(self._run.id)

    def _on_link(self, href: str) -> None:
        if href.startswith("run:"):
            self.sig_run_activated.emit(href[4:])

    def _on_tags_edited(self, tags: dict, removed: list) -> None:
        if self._run is not None:
            self.sig_tags_edited.emit(self._run.id, tags, removed)

    def _on_note_saved(self, text: str) -> None:
        if self._run is not None:
            self.sig_note_edited.emit(self._run.id, text)


__all__ = ["RunDetailView", "fmt_number", "git_text"]
