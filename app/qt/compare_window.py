"""Compare in its own window: the Compare tab's panel moves out and back, still live.

The panel object stays the same (the controller keeps feeding it), only its parent changes;
the tab shows a placeholder meanwhile. Closing the window puts the panel back in the tab.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from app.qt.compare_panel import ComparePanel
from app.qt.theme import icon

GEOMETRY_KEY = "compare/window_geometry"


class CompareWindow(QWidget):
    """A top-level window holding the compare panel while it is popped out."""

    sig_closed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Runwatch — Compare")
        self._box = QVBoxLayout(self)
        self._box.setContentsMargins(0, 0, 0, 0)
        QShortcut(QKeySequence.StandardKey.Close, self, activated=self.close)

    def hold(self, panel: QWidget) -> None:
        self._box.addWidget(panel)
        panel.show()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.sig_closed.emit()
        super().closeEvent(event)


class CompareDock:
    """Moves ``panel`` between the tab at ``tab_index`` of ``tabs`` and a CompareWindow."""

    def __init__(self, tabs: QTabWidget, panel: ComparePanel, settings: QSettings, on_moved) -> None:  # noqa: ANN001
        self.tabs, self.panel, self.settings = tabs, panel, settings
        self._on_moved = on_moved
        self.window: CompareWindow | None = None
        self.placeholder = QWidget()
        text = QLabel("Compare is open in its own window.", alignment=Qt.AlignmentFlag.AlignCenter)
        text.setObjectName("EmptyState")
        back = QPushButton(icon("compare"), "Bring it back here")
        back.clicked.connect(self.dock)
        show = QPushButton("Show the window")
        show.clicked.connect(self.raise_window)
        lay = QVBoxLayout(self.placeholder)
        lay.addStretch(1)
        lay.addWidget(text)
        for b in (show, back):
            b.setMinimumWidth(190)
            lay.addWidget(b, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(1)

    @property
    def popped(self) -> bool:
        return self.window is not None

    def pop_out(self) -> None:
        if self.window is not None:
            self.raise_window()
            return
        self._swap_page(self.panel, self.placeholder)
        self.window = CompareWindow(self.tabs.window())
        geometry = self.settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.window.restoreGeometry(geometry)
        else:
            self.window.resize(1100, 720)
        self.window.hold(self.panel)
        self.window.sig_closed.connect(self.dock)
        self.window.show()
        self._on_moved()

    def _swap_page(self, old: QWidget, new: QWidget) -> None:
        """Put ``new`` in the tab that holds ``old``, keeping it current if it was."""
        index = self.tabs.indexOf(old)
        current = self.tabs.currentIndex() == index
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, new, icon("compare"), "Compare")
        if current:
            self.tabs.setCurrentIndex(index)

    def raise_window(self) -> None:
        if self.window is not None:
            self.window.show()
            self.window.raise_()
            self.window.activateWindow()

    def dock(self) -> None:
        """Put the panel back in its tab (closing the window does this too)."""
        window, self.window = self.window, None
        if window is None:
            return
        self.settings.setValue(GEOMETRY_KEY, window.saveGeometry())
        self._swap_page(self.placeholder, self.panel)
        window.sig_closed.disconnect(self.dock)
        window.hide()  # (not close(): this may run inside the window's own closeEvent)
        window.deleteLater()
        self._on_moved()

    def show(self) -> None:
        """Bring the comparison into view wherever it is."""
        if self.window is not None:
            self.raise_window()
        else:
            self.tabs.setCurrentWidget(self.panel)
