"""A collapsible group of chart panels (one per key prefix such as ``train/``)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QToolButton, QVBoxLayout, QWidget

UNGROUPED_TITLE = "Ungrouped"


class GroupSection(QWidget):
    """Header button (click to fold) over a grid of panels."""

    sig_toggled = Signal(str, bool)  # (group name, expanded)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.header = QToolButton(self)
        self.header.setObjectName("ChartGroupHeader")
        self.header.setCheckable(True)
        self.header.setChecked(True)
        self.header.setAutoRaise(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setArrowType(Qt.ArrowType.DownArrow)
        self.header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # A section title, not a toggle button: no "checked" fill from the app style.
        self.header.setStyleSheet(
            "QToolButton#ChartGroupHeader, QToolButton#ChartGroupHeader:checked {"
            " background: transparent; border: none; padding: 4px 2px;"
            " font-weight: 600; text-align: left; }"
            "QToolButton#ChartGroupHeader:hover { background: palette(midlight); }"
        )
        self.header.toggled.connect(self._on_toggled)

        self.body = QWidget(self)
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(8)
        self._columns = 0

        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 6)
        box.setSpacing(2)
        box.addWidget(self.header)
        box.addWidget(self.body)

    def expanded(self) -> bool:
        return self.header.isChecked()

    def set_expanded(self, on: bool) -> None:
        if on != self.header.isChecked():
            self.header.blockSignals(True)
            self.header.setChecked(on)
            self.header.blockSignals(False)
        self._apply_expanded(on)

    def _apply_expanded(self, on: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.body.setVisible(on)

    def _on_toggled(self, on: bool) -> None:
        self._apply_expanded(on)
        self.sig_toggled.emit(self.name, on)

    def columns(self) -> int:
        return self._columns

    def set_panels(self, panels: Sequence[QWidget], columns: int) -> None:
        """Lay ``panels`` out ``columns`` per row (equal widths), replacing the old layout."""
        while self.grid.count():
            self.grid.takeAt(0)
        for i, panel in enumerate(panels):
            self.grid.addWidget(panel, i // columns, i % columns)
        for c in range(max(columns, self._columns)):
            self.grid.setColumnStretch(c, 1 if c < columns else 0)
        self._columns = columns
        title = self.name or UNGROUPED_TITLE
        self.header.setText(f"{title}  ({len(panels)})")
