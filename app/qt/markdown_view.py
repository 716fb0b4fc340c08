"""Markdown display that is readable and never touches the disk.

Qt's Markdown import leaves no space between blocks; ``space_markdown`` adds margins. The
browser refuses to load resources (images, linked pages): that would be a synchronous file
read on the GUI thread, and a preview must never reach outside what it was given.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QDesktopServices, QPalette, QTextCursor, QTextDocument, QTextFormat
from PySide6.QtWidgets import QTextBrowser, QWidget


class SafeTextBrowser(QTextBrowser):
    """A QTextBrowser that never reads a file: no images or pages behind links are loaded
    (that would be a synchronous read on the GUI thread), and only http(s)/mailto links open,
    in the system browser."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.anchorClicked.connect(self._open)

    def loadResource(self, type: int, name: Any) -> Any:  # noqa: A002 - Qt's signature
        return None

    @staticmethod
    def _open(url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)


def render_markdown(browser: QTextBrowser, text: str) -> None:
    """``setMarkdown`` plus readable spacing: Qt's import leaves no gaps between blocks."""
    browser.setMarkdown(text)
    browser.document().setDocumentMargin(12)
    space_markdown(browser.document(), browser.palette().color(QPalette.ColorRole.AlternateBase))


def markdown_html(text: str, code_bg: QColor) -> str:
    """Markdown as spaced-out HTML for a rich-text QLabel; images become their alt text
    (a label would load them from disk on the GUI thread)."""
    doc = QTextDocument()
    doc.setMarkdown(text)
    images = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.isValid() and frag.charFormat().isImageFormat():
                images.append((frag.position(), frag.length(), frag.charFormat().toImageFormat()))
            it += 1
        block = block.next()
    for pos, length, fmt in reversed(images):
        cursor = QTextCursor(doc)
        cursor.setPosition(pos)
        cursor.setPosition(pos + length, QTextCursor.MoveMode.KeepAnchor)
        alt = fmt.property(QTextFormat.Property.ImageAltText) or fmt.name()
        cursor.insertText(f"[image: {alt}]")
    space_markdown(doc, code_bg)
    return doc.toHtml()


def space_markdown(doc: QTextDocument, code_bg: QColor) -> None:
    """Add margins between headings, paragraphs, lists and code blocks of a Markdown import."""

    def is_code(block: Any) -> bool:
        fmt = block.blockFormat()
        return block.isValid() and (fmt.hasProperty(QTextFormat.Property.BlockCodeFence)
                                    or fmt.nonBreakableLines())

    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        first = block == doc.begin()
        if fmt.headingLevel():
            fmt.setTopMargin(0 if first else 14)
            fmt.setBottomMargin(6)
        elif is_code(block):
            fmt.setBackground(code_bg)
            fmt.setLeftMargin(8)
            fmt.setTopMargin(0 if is_code(block.previous()) else 4)
            fmt.setBottomMargin(0 if is_code(block.next()) else 10)
        elif block.textList() is not None:
            fmt.setBottomMargin(2 if block.next().textList() is not None else 10)
        else:
            fmt.setBottomMargin(10)
        QTextCursor(block).setBlockFormat(fmt)
        block = block.next()
