"""Overlays on a panel: the crosshair readout (a small box next to the vertical line listing
each run's value) and the "loading…" placeholder."""

from __future__ import annotations

import html
import math

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

#: Rows listed before "+N more".
MAX_ROWS = 12
_GAP_PX = 10


def format_value(v: float | None) -> str:
    if v is None:
        return "–"
    if math.isnan(v):
        return "nan"
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
        return f"{v:.3e}"
    return f"{v:.4g}"


class Readout(QLabel):
    """Overlay label on a panel; ignores the mouse so it never steals hover/clicks."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("ChartReadout")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._plain = ""
        self.hide()

    def apply_colors(self, bg: QColor, fg: QColor) -> None:
        self.setStyleSheet(
            "#ChartReadout {"
            f" background: rgba({bg.red()},{bg.green()},{bg.blue()},225);"
            f" color: {fg.name()};"
            f" border: 1px solid rgba({fg.red()},{fg.green()},{fg.blue()},60);"
            " border-radius: 4px; padding: 3px 6px; font-size: 11px; }"
        )

    def plain_text(self) -> str:
        return self._plain

    def show_rows(
        self,
        header: str,
        rows: list[tuple[str, str, float, float | None]],
        where: tuple[float, float, float, float],
    ) -> None:
        """``rows``: (colour, run name, shown value, raw value or None); ``where``: the
        line's x and the data area's left, right and top, in the parent's pixels."""
        if not rows:
            self.hide()
            self._plain = ""
            return
        lines_html = [f"<b>{html.escape(header)}</b>"] if header else []
        lines_plain = [header] if header else []
        for color, name, value, raw in rows[:MAX_ROWS]:
            raw_txt = f" ({format_value(raw)})" if raw is not None else ""
            lines_html.append(
                f'<span style="color:{color}">&#9632;</span> {html.escape(name)}: '
                f"<b>{format_value(value)}</b>{raw_txt}"
            )
            lines_plain.append(f"{name}: {format_value(value)}{raw_txt}")
        if len(rows) > MAX_ROWS:
            more = f"+{len(rows) - MAX_ROWS} more"
            lines_html.append(f"<i>{more}</i>")
            lines_plain.append(more)
        self._plain = "\n".join(lines_plain)
        self.setText("<br>".join(lines_html))
        self.adjustSize()
        line_x, left, right, top = where
        x = line_x + _GAP_PX
        if x + self.width() > right:
            x = line_x - _GAP_PX - self.width()
        x = max(left, min(x, right - self.width()))
        self.move(int(x), int(top) + 4)
        self.show()
        self.raise_()


class Placeholder(QLabel):
    """Centred text over the whole panel ("loading…", "no data"); follows its size."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()
        parent.installEventFilter(self)

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt API
        if ev.type() == QEvent.Type.Resize and obj is self.parent():
            self.setGeometry(0, 0, obj.width(), obj.height())
        return False

    def show_text(self, text: str) -> None:
        self.setText(text)
        self.setGeometry(0, 0, self.parentWidget().width(), self.parentWidget().height())
        self.setVisible(bool(text))

    def apply_colors(self, fg: QColor) -> None:
        self.setStyleSheet(f"color: rgba({fg.red()},{fg.green()},{fg.blue()},150);"
                           " background: transparent;")
