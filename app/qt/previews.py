"""The preview pane of the artifacts view: one page per kind of content.

Pages: ``empty``, ``image`` (scaled pixmap, Fit/100 % toggle), ``text`` (read-only monospace),
``markdown`` (rendered), ``table`` (CSV/TSV and model files; sortable) and ``info`` (binary
files and folders: facts only). The pane shows what a ``Preview`` holds; it never reads files.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.qt.detail_common import (
    MessageBar,
    _make_table_view,
    human_size,
    monospace_font,
    set_icon,
)
from app.qt.markdown_view import SafeTextBrowser
from app.qt.preview_loaders import Preview
from app.qt.theme import icon

_Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    """Rows of strings. Sorting happens here on precomputed keys (numbers sort as numbers):
    a proxy would call ``data()`` from Python hundreds of thousands of times on 10,000 rows."""

    def __init__(self, headers: list[str], rows: list[list[str]], parent: Any = None) -> None:
        super().__init__(parent)
        self._headers = headers
        self._rows = rows
        self._numeric = [self._is_numeric(c) for c in range(len(headers))]

    def _is_numeric(self, col: int) -> bool:
        seen = False
        for row in self._rows[:2000]:
            cell = row[col].strip()
            if not cell:
                continue
            try:
                float(cell)
            except ValueError:
                return False
            seen = True
        return seen

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and self._numeric[index.column()]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._headers[section]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._headers):
            return
        if self._numeric[column]:
            def key(row: list[str]) -> tuple[int, float]:
                try:
                    return (0, float(row[column]))
                except ValueError:
                    return (1, 0.0)  # blanks last
        else:
            def key(row: list[str]) -> tuple[int, str]:  # type: ignore[misc]
                return (0, row[column].casefold())
        self.layoutAboutToBeChanged.emit()
        self._rows.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()


class ImageView(QWidget):
    """A decoded image shown fitted to the pane (default) or at 100 %, in a scroll area."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap = QPixmap()
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        set_icon(self.fit_button, "zoom-reset")
        self.fit_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.fit_button.setCheckable(True)
        self.fit_button.setChecked(True)
        self.fit_button.setToolTip("Fit the image to the pane, or show it at 100 %")
        self.fit_button.toggled.connect(self._rescale)
        self.caption = QLabel()
        self.caption.setObjectName("PanelTitle")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.caption, 1)
        bar.addWidget(self.fit_button)
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll = QScrollArea()
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll.setWidget(self.label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addLayout(bar)
        lay.addWidget(self.scroll, 1)

    def set_image(self, pixmap: QPixmap, caption: str, original_width: int = 0) -> None:
        """``original_width``: the file's own width, when the pixmap was decoded at another size."""
        self._pixmap = pixmap
        self._caption = caption
        self._original_width = original_width or pixmap.width()
        self._rescale()

    def pixmap_size(self) -> tuple[int, int]:
        return self._pixmap.width(), self._pixmap.height()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.fit_button.isChecked():
            QTimer.singleShot(0, self._rescale)

    def _rescale(self) -> None:
        if self._pixmap.isNull():
            self.label.clear()
            return
        if self.fit_button.isChecked():
            area = self.scroll.viewport().size()
            w, h = max(16, area.width() - 8), max(16, area.height() - 8)
            small = self._pixmap.width() <= 64 and self._pixmap.height() <= 64
            if small:  # enlarge icons and thumbnails crisply, but not to a wall of pixels
                side = max(self._pixmap.width(), self._pixmap.height())
                w, h = min(w, side * 32, 256), min(h, side * 32, 256)
            mode = Qt.TransformationMode.FastTransformation if small else Qt.TransformationMode.SmoothTransformation
            shown = self._pixmap.scaled(w, h, Qt.AspectRatioMode.KeepAspectRatio, mode)
            if not small and shown.width() > self._pixmap.width():
                shown = self._pixmap  # never blow up photos; tiny images enlarge crisply
        else:
            shown = self._pixmap
        self.label.setPixmap(shown)
        self.label.resize(shown.size())
        zoom = round(100 * shown.width() / max(1, self._original_width))
        self.caption.setText(f"{self._caption} · {zoom} %")


class PreviewPane(QWidget):
    """Header (name, kind, size), a busy bar, an in-panel message, and the content pages."""

    PAGES = ("empty", "image", "text", "markdown", "table", "info")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("PreviewTitle")
        font = self.title.font()
        font.setWeight(font.Weight.DemiBold)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QLabel()
        self.details.setObjectName("PanelTitle")
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title, 1)
        head.addWidget(self.details)
        self.busy = QProgressBar()
        self.busy.setObjectName("PreviewBusy")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setFixedHeight(3)
        self.busy.setVisible(False)
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(120)  # no flicker for quick loads
        self._busy_timer.timeout.connect(lambda: self.busy.setVisible(True))
        self.message = MessageBar(self)
        self.note = QLabel()
        self.note.setObjectName("PanelTitle")
        self.note.setWordWrap(True)
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        self.empty_label = QLabel("Select a file to preview it")
        self.empty_label.setObjectName("EmptyState")
        self._add("empty", self.empty_label)
        self.image = ImageView()
        self._add("image", self.image)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(monospace_font())
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._add("text", self.text)
        self.markdown = SafeTextBrowser()
        self._add("markdown", self.markdown)
        self._add("table", self._build_table_page())
        self._add("info", self._build_info_page())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 8)
        lay.setSpacing(6)
        lay.addLayout(head)
        lay.addWidget(self.busy)
        lay.addWidget(self.message)
        lay.addWidget(self.note)
        lay.addWidget(self.stack, 1)
        self.show_empty()

    def _add(self, name: str, widget: QWidget) -> None:
        if not widget.objectName():
            widget.setObjectName(f"Preview_{name}")
        self.pages[name] = widget
        self.stack.addWidget(widget)

    def _build_table_page(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        self.table_info = QLabel()
        self.table_info.setTextFormat(Qt.TextFormat.RichText)
        self.table_info.setWordWrap(True)
        self.table_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = _make_table_view()
        self.table.horizontalHeader().setStretchLastSection(False)
        lay.addWidget(self.table_info)
        lay.addWidget(self.table, 1)
        return page

    def _build_info_page(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(0, 0, 0, 0)
        card = QFrame()
        card.setObjectName("Card")
        lay = QHBoxLayout(card)
        lay.setContentsMargins(16, 14, 16, 14)
        lay.setSpacing(16)
        self.info_icon = QLabel()
        self.info_icon.setFixedSize(40, 40)
        lay.addWidget(self.info_icon, 0, Qt.AlignmentFlag.AlignTop)
        right = QVBoxLayout()
        self.info_form = QFormLayout()
        self.info_form.setHorizontalSpacing(16)
        right.addLayout(self.info_form)
        self.info_text = QLabel()
        self.info_text.setWordWrap(True)
        self.info_text.setObjectName("InfoText")
        right.addWidget(self.info_text)
        lay.addLayout(right, 1)
        outer.addWidget(card)
        outer.addStretch(1)
        return page

    # --------------------------------------------------------------------------- state
    def current_page(self) -> str:
        widget = self.stack.currentWidget()
        return next(name for name, w in self.pages.items() if w is widget)

    def _show_page(self, name: str) -> None:
        self.stack.setCurrentWidget(self.pages[name])

    def set_busy(self, busy: bool) -> None:
        if busy:
            if not self._busy_timer.isActive() and self.busy.isHidden():
                self._busy_timer.start()
        else:
            self._busy_timer.stop()
            self.busy.setVisible(False)

    def is_busy(self) -> bool:
        return self._busy_timer.isActive() or not self.busy.isHidden()

    def set_header(self, title: str, details: str = "") -> None:
        self.title.setText(title)
        self.details.setText(details)

    def show_empty(self, text: str = "Select a file to preview it", title: str = "") -> None:
        self.set_busy(False)
        self.set_header(title)
        self.message.clear()
        self.note.hide()
        self.empty_label.setText(text)
        self._clear_content()
        self._show_page("empty")

    def show_error(self, text: str, title: str = "") -> None:
        """An in-panel error; the content area goes back to the empty page."""
        self.set_busy(False)
        if title:
            self.set_header(title)
        self.note.hide()
        self._clear_content()
        self.empty_label.setText("")
        self._show_page("empty")
        self.message.show_message(text, "error")

    def _clear_content(self) -> None:
        self.text.clear()
        self.markdown.clear()
        self.table.setModel(None)
        self.image.set_image(QPixmap(), "")

    def show_preview(self, p: Preview) -> None:
        self.set_busy(False)
        name = p.rel.rsplit("/", 1)[-1] or p.rel
        kind = {"dir": "folder", "text": "text"}.get(p.kind, p.kind)
        self.set_header(name, f"{kind} · {human_size(p.size)}" if p.kind != "model" else "model")
        self.title.setToolTip(p.rel)
        if p.warning:
            self.message.show_message(p.warning, "warning")
        else:
            self.message.clear()
        self.note.setText(p.note)
        self.note.setVisible(bool(p.note))
        self._clear_content()
        if p.page == "image" and p.image is not None:
            w, h = p.image_size
            self.image.set_image(QPixmap.fromImage(p.image), f"{w} × {h} px", w)
        elif p.page == "text":
            self.text.setPlainText(p.text)
        elif p.page == "markdown" and p.document is not None:
            self.markdown.show_document(p.document)
        elif p.page == "table":
            self._fill_table(p)
        elif p.page == "info":
            self._fill_info(p)
        self._show_page(p.page)
        if p.page == "image":
            self.image._rescale()

    def _fill_table(self, p: Preview) -> None:
        model = RowsModel(p.headers, p.rows, self.table)
        self.table.setSortingEnabled(False)
        self.table.setModel(model)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)  # sorts by the indicator: -1 keeps the file's order
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for c in range(model.columnCount()):
            header.resizeSection(c, min(max(header.sectionSize(c) + 12, 60), 320))
        if p.info:
            rows = "".join(f"<tr><td style='padding-right:14px; color:palette(placeholder-text)'>{_esc(k)}</td>"
                           f"<td>{_esc(v)}</td></tr>" for k, v in p.info)
            self.table_info.setText(f"<table>{rows}</table>")
        self.table_info.setVisible(bool(p.info))

    def _fill_info(self, p: Preview) -> None:
        while self.info_form.rowCount():
            self.info_form.removeRow(0)
        for key, value in p.info:
            label = QLabel(value)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self.info_form.addRow(key, label)
        self.info_text.setText(p.text)
        name = "folder" if p.kind == "dir" else "file"
        self._info_icon_name = name
        self.info_icon.setPixmap(icon(name).pixmap(40, 40))

    def retheme(self) -> None:
        if getattr(self, "_info_icon_name", None):
            self.info_icon.setPixmap(icon(self._info_icon_name).pixmap(40, 40))

    def text_content(self) -> str:
        """What the current page shows as text (for tests and copy)."""
        page = self.current_page()
        if page == "text":
            return self.text.toPlainText()
        if page == "markdown":
            return self.markdown.toPlainText()
        if page == "info":
            return self.info_text.text()
        return ""


def _esc(text: str) -> str:
    import html

    return html.escape(text)
