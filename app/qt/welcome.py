"""The first screen: open a store, create a demo store, or pick a recent one."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.qt.theme import icon


class WelcomePage(QFrame):
    sig_open_requested = Signal()  # ask for a folder
    sig_demo_requested = Signal()
    sig_store_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="WelcomePage")
        logo = QLabel()
        logo.setPixmap(icon("runwatch").pixmap(72, 72))
        title = QLabel("Runwatch", objectName="WelcomeTitle")
        sub = QLabel("Live experiment tracking on your workstation. Open a store folder to watch its runs.",
                     objectName="EmptyState", wordWrap=True)
        self.message = QLabel(objectName="MessageBar", wordWrap=True)
        self.message.setProperty("level", "error")
        self.message.hide()
        open_btn = QPushButton(icon("open-folder"), "  Open store…")
        open_btn.setDefault(True)
        open_btn.setProperty("primary", True)
        open_btn.clicked.connect(self.sig_open_requested)
        demo_btn = QPushButton(icon("play"), "  Create a demo store")
        demo_btn.clicked.connect(self.sig_demo_requested)
        self.recent = QListWidget()
        self.recent.setMaximumHeight(180)
        self.recent.itemActivated.connect(lambda it: self.sig_store_chosen.emit(it.data(Qt.ItemDataRole.UserRole)))
        self.recent_label = QLabel("Recent stores", objectName="PanelTitle")

        buttons = QHBoxLayout()
        buttons.addWidget(open_btn)
        buttons.addWidget(demo_btn)
        buttons.addStretch(1)
        col = QVBoxLayout()
        col.addStretch(2)
        head = QHBoxLayout()
        head.addWidget(logo)
        head.addWidget(title)
        head.addStretch(1)
        col.addLayout(head)
        col.addWidget(sub)
        col.addSpacing(12)
        col.addWidget(self.message)
        col.addLayout(buttons)
        col.addSpacing(16)
        col.addWidget(self.recent_label)
        col.addWidget(self.recent)
        hint = QLabel("Log from a training script, then open the store folder here:<br>"
                      "<code>with tracker_sdk.init(store=\"runs/\") as run:<br>"
                      "&nbsp;&nbsp;&nbsp;&nbsp;run.log({\"train/loss\": loss}, step=step)</code>",
                      objectName="EmptyState", textFormat=Qt.TextFormat.RichText)
        hint.setAlignment(Qt.AlignmentFlag.AlignLeft)
        col.addWidget(hint)
        col.addStretch(3)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        inner = QWidget()
        inner.setLayout(col)
        inner.setMaximumWidth(640)
        outer.addWidget(inner, 3)
        outer.addStretch(1)

    def set_recent(self, paths: Sequence[str]) -> None:
        self.recent.clear()
        for p in paths:
            item = QListWidgetItem(icon("folder"), p)
            item.setData(Qt.ItemDataRole.UserRole, p)
            self.recent.addItem(item)
        self.recent.setVisible(bool(paths))
        self.recent_label.setVisible(bool(paths))

    def show_error(self, text: str | None) -> None:
        self.message.setText(text or "")
        self.message.setVisible(bool(text))
