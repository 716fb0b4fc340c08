"""Markdown display that is readable and reads nothing by itself.

Qt's Markdown import leaves no space between blocks; ``space_markdown`` adds margins. Left to
itself, Qt loads whatever an image or stylesheet names, synchronously on the GUI thread:
``![](/dev/zero)`` reads until memory runs out, a fifo blocks forever, a path outside the run
shows files the artifact has no business showing. So a document made here shows only images
handed to it already decoded (``markdown_document``); every other request for a resource is
answered with a blank, never with "nothing" (then Qt would fall back to reading the file).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QImage,
    QPalette,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextImageFormat,
    QTextLength,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

#: For each image a Markdown text links to: the decoded image, or why it is not shown.
ImageSource = Callable[[str], "QImage | str"]


def _blank(kind: int) -> Any:
    # Not None and not an empty QByteArray: on those, QTextDocument reads the file itself and
    # QTextImageHandler tries QImage::load(name). A non-null 1x1 image ends the search.
    if kind == QTextDocument.ResourceType.ImageResource:
        image = QImage(1, 1, QImage.Format.Format_ARGB32)
        image.fill(0)
        return image
    return ""


class SafeDocument(QTextDocument):
    """A document that loads no resource: what it shows was added with ``addResource``."""

    def loadResource(self, type: int, name: QUrl) -> Any:  # noqa: A002 - Qt's signature
        return _blank(type)


class SafeTextBrowser(QTextBrowser):
    """A QTextBrowser that never reads a file or the network; only http(s)/mailto links open,
    in the system browser."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setSearchPaths([])
        self.anchorClicked.connect(self._open)

    def loadResource(self, type: int, name: QUrl) -> Any:  # noqa: A002 - Qt's signature
        return _blank(type)

    def show_document(self, doc: QTextDocument) -> None:
        """Show ``doc`` (made on any thread and moved to this one); the browser owns it."""
        old = self.document()
        ours = old is not doc and old.parent() is self  # Qt deletes the one it made itself
        doc.setDefaultFont(self.font())
        doc.setParent(self)
        self.setDocument(doc)
        if ours:
            old.deleteLater()

    @staticmethod
    def _open(url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)


def markdown_document(text: str, code_bg: QColor, images: ImageSource | None = None) -> SafeDocument:
    """``text`` as a spaced-out document; safe to build on a worker thread (no widget involved).

    Each image is ``images(url)``: a decoded image is shown, fitted to the width; otherwise (and
    for every image without ``images``) its alt text shows in its place, with the reason.
    """
    doc = SafeDocument()
    doc.setUndoRedoEnabled(False)
    doc.setMarkdown(text)
    doc.setDocumentMargin(12)
    _replace_images(doc, images)
    space_markdown(doc, code_bg)
    return doc


def _replace_images(doc: QTextDocument, images: ImageSource | None) -> None:
    found = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            if frag.isValid() and frag.charFormat().isImageFormat():
                found.append((frag.position(), frag.length(), frag.charFormat().toImageFormat()))
            it += 1
        block = block.next()
    loaded: dict[str, QImage | str] = {}
    for _pos, _length, fmt in found:  # in reading order: a cap on images keeps the first ones
        if fmt.name() not in loaded:
            loaded[fmt.name()] = images(fmt.name()) if images is not None else ""
    cursor = QTextCursor(doc)
    cursor.beginEditBlock()
    for pos, length, fmt in reversed(found):  # from the end: edits keep earlier positions valid
        name = fmt.name()
        shown = loaded[name]
        cursor.setPosition(pos)
        cursor.setPosition(pos + length, QTextCursor.MoveMode.KeepAnchor)
        if isinstance(shown, QImage):
            # A name that is no path: whatever Qt does with it, it cannot find a file by it.
            key = f"runwatch-image:{pos}"
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(key), shown)
            image = QTextImageFormat(fmt)
            image.setName(key)
            image.setMaximumWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
            cursor.setCharFormat(image)
        else:
            alt = fmt.property(QTextFormat.Property.ImageAltText) or name
            why = f" — not shown: {shown}" if shown else ""
            plain = QTextCharFormat()
            plain.setFontItalic(True)
            cursor.insertText(f"[image: {alt}{why}]", plain)
    cursor.endEditBlock()


def render_markdown(browser: SafeTextBrowser, text: str) -> None:
    """Show ``text`` in ``browser``, images as their alt text (notes have no folder of files)."""
    code_bg = browser.palette().color(QPalette.ColorRole.AlternateBase)
    browser.show_document(markdown_document(text, code_bg))


def markdown_html(text: str, code_bg: QColor) -> str:
    """Markdown as spaced-out HTML for a rich-text QLabel; images become their alt text
    (a label would load them from disk on the GUI thread)."""
    return markdown_document(text, code_bg).toHtml()


def space_markdown(doc: QTextDocument, code_bg: QColor) -> None:
    """Add margins between headings, paragraphs, lists and code blocks of a Markdown import.

    One edit block: on a document already laid out, Qt would otherwise lay a whole table out
    again after each of its cells changed (time growing with the square of the rows).
    """

    def is_code(block: Any) -> bool:
        fmt = block.blockFormat()
        return block.isValid() and (fmt.hasProperty(QTextFormat.Property.BlockCodeFence)
                                    or fmt.nonBreakableLines())

    cursor = QTextCursor(doc)
    cursor.beginEditBlock()
    block = doc.begin()
    first = True
    while block.isValid():
        fmt = block.blockFormat()
        cursor.setPosition(block.position())
        if cursor.currentTable() is not None:
            pass  # table cells keep Qt's tight spacing
        elif fmt.headingLevel():
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
        cursor.setBlockFormat(fmt)
        block = block.next()
        first = False
    cursor.endEditBlock()
