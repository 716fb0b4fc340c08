"""The editable parts of the run detail: tags and the Markdown note.

Both only emit what the user changed; the owner routes that to undoable commands that write
through the SDK, and later calls ``set_tags`` / ``set_note`` with the stored state.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.qt.detail_common import MessageBar, set_icon
from app.qt.markdown_view import SafeTextBrowser, render_markdown
from tracker_sdk.errors import ValidationError
from tracker_sdk.limits import MAX_TAG_VALUE_LENGTH
from tracker_sdk.validation import check_key

_KEY_ROLE = Qt.ItemDataRole.UserRole + 10  # the stored key of a row (None for a new row)


class TagsEditor(QWidget):
    """Key/value table. ``edited(set: dict, removed: list)`` after each committed change."""

    edited = Signal(dict, list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run_id: str | None = None
        self._pending: Mapping[str, str] | None = None
        self._read_only = False
        title = QLabel("Tags")
        title.setObjectName("PanelTitle")
        self.add_button = QToolButton()
        set_icon(self.add_button, "plus")
        self.add_button.setText("Add tag")
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.add_button.setAutoRaise(True)
        self.add_button.clicked.connect(self.add_row)
        self.remove_button = QToolButton()
        set_icon(self.remove_button, "delete")
        self.remove_button.setText("Remove")
        self.remove_button.setToolTip("Remove the selected tags (Delete)")
        self.remove_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.remove_button.setAutoRaise(True)
        self.remove_button.clicked.connect(self.remove_selected)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.add_button)
        top.addWidget(self.remove_button)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Key", "Value"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 200)
        header.setStretchLastSection(True)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        delete = QShortcut(QKeySequence.StandardKey.Delete, self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.remove_selected)
        self.message = MessageBar(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(self.message)
        lay.addWidget(self.table, 1)
        self._update_buttons()

    # --------------------------------------------------------------------------- state
    def set_read_only(self, on: bool) -> None:
        """A store Runwatch never writes (MLflow's): tags show, nothing edits them."""
        self._read_only = on
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers if on else (
            QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed))
        self.add_button.setVisible(not on)
        self.remove_button.setVisible(not on)
        self._update_buttons()

    def set_tags(self, run_id: str | None, tags: Mapping[str, str]) -> None:
        """Show the stored tags; an edit in progress on the same run is not interrupted."""
        same = run_id == self._run_id
        if same and self.table.state() == QAbstractItemView.State.EditingState:
            self._pending = dict(tags)  # applied when the edit ends
            return
        if same and self.tags() == dict(tags) and not self._has_new_rows():
            return
        if not same:
            self.message.clear()
        self._run_id = run_id
        self._pending = None
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for key, value in sorted(tags.items()):
            self._append(key, value)
        self.table.blockSignals(False)
        self._update_buttons()

    def tags(self) -> dict[str, str]:
        """The committed tags shown (new rows without a key are left out)."""
        out = {}
        for row in range(self.table.rowCount()):
            key_item, value_item = self.table.item(row, 0), self.table.item(row, 1)
            stored = key_item.data(_KEY_ROLE) if key_item else None
            if stored:
                out[stored] = value_item.text() if value_item else ""
        return out

    def _has_new_rows(self) -> bool:
        return any(not (self.table.item(r, 0) and self.table.item(r, 0).data(_KEY_ROLE))
                   for r in range(self.table.rowCount()))

    def _append(self, key: str | None, value: str) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        key_item = QTableWidgetItem(key or "")
        key_item.setData(_KEY_ROLE, key)
        value_item = QTableWidgetItem(value)
        value_item.setData(_KEY_ROLE, value)
        if len(value) > 60:
            value_item.setToolTip(value[:2000])
        self.table.setItem(row, 0, key_item)
        self.table.setItem(row, 1, value_item)
        return row

    # --------------------------------------------------------------------------- actions
    def add_row(self) -> None:
        self.table.blockSignals(True)
        row = self._append(None, "")
        self.table.blockSignals(False)
        self.table.setCurrentCell(row, 0)
        self.table.editItem(self.table.item(row, 0))

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        removed = []
        self.table.blockSignals(True)
        for row in rows:
            stored = self.table.item(row, 0).data(_KEY_ROLE)
            if stored:
                removed.append(stored)
            self.table.removeRow(row)
        self.table.blockSignals(False)
        self._update_buttons()
        if removed:
            self.message.clear()
            self.edited.emit({}, sorted(removed))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        row = item.row()
        key_item, value_item = self.table.item(row, 0), self.table.item(row, 1)
        if key_item is None or value_item is None:
            return
        stored_key = key_item.data(_KEY_ROLE)
        key = key_item.text().strip()
        value = value_item.text()
        if item.column() == 1 and not stored_key:
            return  # a new row: wait for its key
        if item.column() == 1 and value == value_item.data(_KEY_ROLE):
            return
        error = self._check(key, value, stored_key)
        if error:
            self.message.show_message(error, "error")
            self._set_silently(key_item, stored_key or "")
            self._set_silently(value_item, value_item.data(_KEY_ROLE) or "")
            if not stored_key and not key:
                self.table.removeRow(row)
            return
        if key == stored_key and value == value_item.data(_KEY_ROLE):
            return
        self.message.clear()
        removed = [stored_key] if stored_key and stored_key != key else []
        key_item.setData(_KEY_ROLE, key)
        value_item.setData(_KEY_ROLE, value)
        self._set_silently(key_item, key)
        self.edited.emit({key: value}, removed)
        self._apply_pending()

    def _check(self, key: str, value: str, stored_key: str | None) -> str | None:
        if not key:
            return "A tag needs a key."
        try:
            check_key(key, "tag")
        except ValidationError as e:
            return str(e)
        if len(value) > MAX_TAG_VALUE_LENGTH:
            return f"A tag value may have at most {MAX_TAG_VALUE_LENGTH} characters."
        if key != stored_key and key in self.tags():
            return f"There is already a tag {key!r}; edit its value instead."
        return None

    def _set_silently(self, item: QTableWidgetItem, text: str) -> None:
        self.table.blockSignals(True)
        item.setText(text)
        self.table.blockSignals(False)

    def _apply_pending(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.set_tags(self._run_id, pending)

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(not self._read_only and bool(self.table.selectedIndexes()))


class NoteEditor(QWidget):
    """Plain-text Markdown editor with a rendered preview; ``saved(text)`` on Save / Ctrl+S.

    Unsaved text survives switching to another run and back (kept as a draft per run).
    """

    saved = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run_id: str | None = None
        self._baseline = ""
        self._drafts: dict[str, str] = {}
        self._read_only = False
        title = QLabel("Note")
        title.setObjectName("PanelTitle")
        self.state_label = QLabel()
        self.state_label.setObjectName("PanelTitle")
        self.preview_button = QToolButton()
        self.preview_button.setText("Preview")
        set_icon(self.preview_button, "eye")
        self.preview_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.preview_button.setCheckable(True)
        self.preview_button.setAutoRaise(True)
        self.preview_button.setToolTip("Show the note rendered as Markdown")
        self.preview_button.toggled.connect(self._toggle_preview)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Throw away the unsaved changes")
        self.discard_button.clicked.connect(self.discard)
        self.save_button = QPushButton("Save")
        set_icon(self.save_button, "check")
        self.save_button.setToolTip("Save the note (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(title)
        top.addWidget(self.state_label)
        top.addStretch(1)
        top.addWidget(self.preview_button)
        top.addWidget(self.discard_button)
        top.addWidget(self.save_button)
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("Write a note about this run (Markdown)…")
        self.editor.textChanged.connect(self._update_state)
        self.preview = SafeTextBrowser()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.editor)
        self.stack.addWidget(self.preview)
        shortcut = QShortcut(QKeySequence.StandardKey.Save, self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.save)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(self.stack, 1)
        self._update_state()

    def set_read_only(self, on: bool) -> None:
        """A store Runwatch never writes: the note shows rendered, with no editor."""
        self._read_only = on
        for button in (self.save_button, self.discard_button, self.preview_button):
            button.setVisible(not on)
        self.preview_button.setChecked(on)
        self._update_state()

    def set_note(self, run_id: str | None, note: str) -> None:
        if run_id != self._run_id:
            if self._run_id is not None and self.is_dirty():
                self._drafts[self._run_id] = self.editor.toPlainText()
            self._run_id = run_id
            self._baseline = note
            self._set_text(self._drafts.pop(run_id, note) if run_id else note)
        else:
            self._baseline = note
            if not self.is_dirty() and self.editor.toPlainText() != note:
                self._set_text(note)
        self._update_state()

    def _set_text(self, text: str) -> None:
        self.editor.setPlainText(text)
        if self.preview_button.isChecked():
            render_markdown(self.preview, text)

    def text(self) -> str:
        return self.editor.toPlainText()

    def is_dirty(self) -> bool:
        return self.editor.toPlainText() != self._baseline

    def has_unsaved_changes(self) -> bool:
        return self.is_dirty() or bool(self._drafts)

    def save(self) -> None:
        if self._run_id is None or not self.is_dirty():
            return
        text = self.editor.toPlainText()
        self._baseline = text  # optimistic; the next set_note brings the stored value
        self._update_state()
        self.saved.emit(text)

    def discard(self) -> None:
        self._set_text(self._baseline)
        self._update_state()

    def _toggle_preview(self, on: bool) -> None:
        if on:
            render_markdown(self.preview, self.editor.toPlainText())
        self.stack.setCurrentWidget(self.preview if on else self.editor)
        self.preview_button.setText("Edit" if on else "Preview")
        set_icon(self.preview_button, "rename" if on else "eye")

    def _update_state(self) -> None:
        dirty = self._run_id is not None and self.is_dirty()
        self.state_label.setText("· unsaved changes" if dirty else "")
        self.save_button.setEnabled(dirty)
        self.discard_button.setEnabled(dirty)
        self.editor.setReadOnly(self._run_id is None or self._read_only)
